package infra

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
)

// Signed checkpoints (ADR 0017): the stream that keeps them and the key
// that signs them.

// CheckpointsMaxMsgs bounds the checkpoint stream: at the default
// interval of a minute, about two years of checkpoints of a busy ledger.
// The oldest go first; checkpoints are worth keeping where the operator
// cannot rewrite them (a witness), not only here.
const CheckpointsMaxMsgs = 1_000_000

// CheckpointStream is the stream of a ledger's signed checkpoints.
func CheckpointStream(n journalio.Names) string { return "CHECKPOINTS_" + n.Ledger }

// CheckpointSubject is the subject checkpoints are published on.
func CheckpointSubject(n journalio.Names) string { return "ledger." + n.Ledger + ".checkpoints" }

// Checkpoint is one signed checkpoint as stored and served.
type Checkpoint struct {
	Seq       uint64    `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	Signature string    `json:"signature"`  // unpadded base64url Ed25519 signature of "ledger-checkpoint-v1:SEQ:HASH"
	PublicKey string    `json:"public_key"` // hex
	// Checkpoint is SEQ:HASH:SIGNATURE, what ledger audit --checkpoint
	// takes.
	Checkpoint string `json:"checkpoint"`
	// Position is the checkpoint's position in the stream; the list's
	// cursor.
	Position uint64 `json:"position"`
}

// ErrNoCheckpoint means no checkpoint was taken yet.
var ErrNoCheckpoint = errors.New("no checkpoint yet")

// Checkpoints appends signed checkpoints to a ledger's checkpoint stream
// and reads them back.
type Checkpoints struct {
	js     jetstream.JetStream
	stream string
	subj   string
	key    ed25519.PrivateKey
}

// EnsureCheckpoints creates or updates the checkpoint stream: limits
// retention, the newest CheckpointsMaxMsgs kept, no delete or purge. A
// node that only reads checkpoints passes a nil key and never calls Sign
// or PublicKey. The stream has replicas copies (0: keep what it has).
func EnsureCheckpoints(ctx context.Context, js jetstream.JetStream, n journalio.Names, key ed25519.PrivateKey, replicas int) (*Checkpoints, error) {
	ctx, cancel := context.WithTimeout(ctx, streamSetupTimeout)
	defer cancel()
	replicas, err := replicasFor(ctx, js, CheckpointStream(n), replicas)
	if err != nil {
		return nil, err
	}
	cfg := jetstream.StreamConfig{
		Name: CheckpointStream(n), Subjects: []string{CheckpointSubject(n)},
		Retention: jetstream.LimitsPolicy, MaxMsgs: CheckpointsMaxMsgs, Discard: jetstream.DiscardOld,
		Storage: jetstream.FileStorage, DenyDelete: true, DenyPurge: true, AllowDirect: true, Replicas: replicas,
	}
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("checkpoint stream: %w", err)
	}
	return &Checkpoints{js: js, stream: cfg.Name, subj: CheckpointSubject(n), key: key}, nil
}

// PublicKey is the key that verifies the checkpoints, in hex.
func (c *Checkpoints) PublicKey() string {
	return hex.EncodeToString(c.key.Public().(ed25519.PublicKey))
}

// Sign signs event seq with hash h at now and appends the checkpoint.
func (c *Checkpoints) Sign(ctx context.Context, seq uint64, h domain.Hash, now time.Time) (Checkpoint, error) {
	sc := domain.SignCheckpoint(c.key, seq, h)
	cp := Checkpoint{Seq: seq, Hash: h.String(), Time: now.UTC(), Signature: sc.SignatureString(),
		PublicKey: c.PublicKey(), Checkpoint: sc.String()}
	body, err := json.Marshal(cp)
	if err != nil {
		return cp, err
	}
	ack, err := c.js.Publish(ctx, c.subj, body)
	if err != nil {
		return cp, fmt.Errorf("append checkpoint: %w", err)
	}
	cp.Position = ack.Sequence
	return cp, nil
}

// Latest returns the newest checkpoint, or ErrNoCheckpoint.
func (c *Checkpoints) Latest(ctx context.Context) (Checkpoint, error) {
	s, err := c.js.Stream(ctx, c.stream)
	if err != nil {
		return Checkpoint{}, err
	}
	msg, err := s.GetLastMsgForSubject(ctx, c.subj)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Checkpoint{}, ErrNoCheckpoint
	}
	if err != nil {
		return Checkpoint{}, err
	}
	return decodeCheckpoint(msg)
}

// List returns up to limit checkpoints after stream position after, in
// the order they were taken.
func (c *Checkpoints) List(ctx context.Context, after uint64, limit int) ([]Checkpoint, error) {
	s, err := c.js.Stream(ctx, c.stream)
	if err != nil {
		return nil, err
	}
	st, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	info := st.State
	out := []Checkpoint{}
	for pos := max(after+1, info.FirstSeq); pos <= info.LastSeq && len(out) < limit; pos++ {
		msg, err := s.GetMsg(ctx, pos)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		cp, err := decodeCheckpoint(msg)
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	return out, nil
}

func decodeCheckpoint(msg *jetstream.RawStreamMsg) (Checkpoint, error) {
	var cp Checkpoint
	if err := json.Unmarshal(msg.Data, &cp); err != nil {
		return cp, fmt.Errorf("checkpoint at position %d: %w", msg.Sequence, err)
	}
	cp.Position = msg.Sequence
	return cp, nil
}

// LoadOrCreateCheckpointKey reads the Ed25519 key at path (its 32-byte
// seed in hex), or generates one there (mode 0600) with its public key
// beside it in path+".pub", and reports whether it did.
func LoadOrCreateCheckpointKey(path string) (ed25519.PrivateKey, bool, error) {
	raw, err := os.ReadFile(path)
	if err == nil {
		seed, err := hex.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, false, fmt.Errorf("checkpoint key %s: want %d bytes in hex", path, ed25519.SeedSize)
		}
		return ed25519.NewKeyFromSeed(seed), false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("checkpoint key: %w", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, false, fmt.Errorf("checkpoint key: %w", err)
	}
	key := ed25519.NewKeyFromSeed(seed)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("checkpoint key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("checkpoint key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(seed) + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("checkpoint key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("checkpoint key: %w", err)
	}
	pub := hex.EncodeToString(key.Public().(ed25519.PublicKey)) + "\n"
	if err := os.WriteFile(path+".pub", []byte(pub), 0o644); err != nil {
		return nil, false, fmt.Errorf("checkpoint public key: %w", err)
	}
	return key, true, nil
}

// DefaultCheckpointKeyFile is where the checkpoint key lives unless
// configured: in the data directory.
func DefaultCheckpointKeyFile(dataDir string) string { return filepath.Join(dataDir, "checkpoint.key") }
