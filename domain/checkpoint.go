package domain

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A checkpoint is a point of the hash chain recorded where the ledger's
// operators cannot rewrite it: the journal must pass through it, however
// much of it was re-hashed since. The ledger signs each with Ed25519 so
// that anyone with its public key can tell a checkpoint it published from
// one an operator made up later (docs/journal-spec.md, section 8; ADR
// 0017).

// checkpointDomain prefixes the signed message, so that a checkpoint
// signature can never be taken for a signature of anything else.
const checkpointDomain = "ledger-checkpoint-v1"

// Checkpoint errors.
var (
	ErrCheckpointSyntax    = errors.New("checkpoint: want SEQ:HASH or SEQ:HASH:SIGNATURE")
	ErrCheckpointSignature = errors.New("checkpoint signature does not verify")
	ErrPublicKey           = errors.New("public key: want 64 hex digits (an Ed25519 key)")
)

// Checkpoint is the journal's event Seq with its hash; Signature, when
// set, is the ledger's Ed25519 signature of CheckpointMessage.
type Checkpoint struct {
	Seq       uint64
	Hash      Hash
	Signature []byte
}

// CheckpointMessage is what a checkpoint's signature signs:
// "ledger-checkpoint-v1:SEQ:HASH", in ASCII.
func CheckpointMessage(seq uint64, h Hash) []byte {
	return fmt.Appendf(nil, "%s:%d:%s", checkpointDomain, seq, h)
}

// SignCheckpoint returns the checkpoint of event seq with hash h, signed
// with key.
func SignCheckpoint(key ed25519.PrivateKey, seq uint64, h Hash) Checkpoint {
	return Checkpoint{Seq: seq, Hash: h, Signature: ed25519.Sign(key, CheckpointMessage(seq, h))}
}

// Verify checks the signature against pub; a checkpoint without one
// does not verify.
func (c Checkpoint) Verify(pub ed25519.PublicKey) error {
	if len(c.Signature) == 0 || len(pub) != ed25519.PublicKeySize ||
		!ed25519.Verify(pub, CheckpointMessage(c.Seq, c.Hash), c.Signature) {
		return fmt.Errorf("%w: checkpoint %d", ErrCheckpointSignature, c.Seq)
	}
	return nil
}

// SignatureString is the signature in unpadded base64url, "" without one.
func (c Checkpoint) SignatureString() string {
	return base64.RawURLEncoding.EncodeToString(c.Signature)
}

// String is the checkpoint as ParseCheckpoint reads it.
func (c Checkpoint) String() string {
	s := strconv.FormatUint(c.Seq, 10) + ":" + c.Hash.String()
	if len(c.Signature) > 0 {
		s += ":" + c.SignatureString()
	}
	return s
}

// ParseCheckpoint reads "SEQ:HASH" or "SEQ:HASH:SIGNATURE".
func ParseCheckpoint(s string) (Checkpoint, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Checkpoint{}, fmt.Errorf("%w: %q", ErrCheckpointSyntax, s)
	}
	seq, err := strconv.ParseUint(parts[0], 10, 64)
	if err != nil || seq == 0 {
		return Checkpoint{}, fmt.Errorf("%w: %q: the sequence must be a positive integer", ErrCheckpointSyntax, s)
	}
	h, ok := parseLowerHex([]byte(parts[1]))
	if !ok {
		return Checkpoint{}, fmt.Errorf("%w: %q: the hash must be 64 lower-case hex digits", ErrCheckpointSyntax, s)
	}
	c := Checkpoint{Seq: seq, Hash: h}
	if len(parts) == 3 {
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil || len(sig) != ed25519.SignatureSize {
			return Checkpoint{}, fmt.Errorf("%w: %q: the signature must be 64 bytes in unpadded base64url", ErrCheckpointSyntax, s)
		}
		c.Signature = sig
	}
	return c, nil
}

// ParsePublicKey reads an Ed25519 public key in hex.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, ErrPublicKey
	}
	return ed25519.PublicKey(b), nil
}
