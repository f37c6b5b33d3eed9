package mixin

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"time"
	"unicode/utf8"
)

// Keystore is what a new user receives, in the JSON the SDK's
// mixin.Keystore reads as is, with the PIN beside it.
type Keystore struct {
	ClientID   string `json:"client_id"`
	SessionID  string `json:"session_id"`
	PrivateKey string `json:"private_key"` // the Ed25519 private key (seed ‖ public), base64url without padding
	PinToken   string `json:"pin_token"`   // the server's X25519 PIN public key, same encoding
	Scope      string `json:"scope"`
	Pin        string `json:"pin"`
}

// ScopeFull is the scope of the users this adapter creates: every route.
const ScopeFull = "FULL"

// maxFullNameLen bounds a user's display name (Mixin's limit is lower).
const maxFullNameLen = 64

var pinRE = regexp.MustCompile(`^[0-9]{6}$`)

// NewUserRequest is what an operator gives to create a user; everything
// is optional.
type NewUserRequest struct {
	FullName string `json:"full_name"`
	// Pin is the user's six-digit PIN; a random one when empty.
	Pin string `json:"pin"`
}

// CreateUser registers a new user in store: a user id and a session id
// (random UUIDs), an Ed25519 session key pair, a server-side X25519 PIN
// key pair and a six-digit PIN, kept only as a salted hash. It returns the
// keystore, the only place the session's private key and the PIN are
// ever written. A malformed request is an *Error (10002).
func CreateUser(ctx context.Context, store Store, req NewUserRequest, now time.Time) (Keystore, error) {
	if !utf8.ValidString(req.FullName) || utf8.RuneCountInString(req.FullName) > maxFullNameLen {
		return Keystore{}, invalidField(fmt.Sprintf("full_name: at most %d characters of UTF-8", maxFullNameLen))
	}
	pin := req.Pin
	if pin == "" {
		n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
		if err != nil {
			return Keystore{}, err
		}
		pin = fmt.Sprintf("%06d", n.Int64())
	} else if !pinRE.MatchString(pin) {
		return Keystore{}, invalidField("pin: six digits")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Keystore{}, err
	}
	sessionCurve, err := curvePrivate(priv)
	if err != nil {
		return Keystore{}, err
	}
	pinKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return Keystore{}, err
	}
	u := User{
		ID: newUUID(), SessionID: newUUID(), FullName: req.FullName, Scope: ScopeFull, CreatedAt: now.UTC(),
		SessionPublicKey: pub, SessionCurveKey: sessionCurve.PublicKey().Bytes(),
		PinPrivateKey: pinKey.Bytes(), PinHash: hashPin(pin),
	}
	if err := store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, ErrExists) {
			return Keystore{}, fmt.Errorf("create user: %w (random ids collided; try again)", err)
		}
		return Keystore{}, err
	}
	enc := base64.RawURLEncoding
	return Keystore{ClientID: u.ID, SessionID: u.SessionID, PrivateKey: enc.EncodeToString(priv),
		PinToken: enc.EncodeToString(pinKey.PublicKey().Bytes()), Scope: u.Scope, Pin: pin}, nil
}

// curvePrivate is the X25519 private key of an Ed25519 key, as the SDK
// derives it to encrypt PINs: the clamped first half of SHA-512(seed),
// the Ed25519 secret scalar (RFC 8032, 5.1.5; X25519 clamps it again).
func curvePrivate(priv ed25519.PrivateKey) (*ecdh.PrivateKey, error) {
	digest := sha512.Sum512(priv.Seed())
	return ecdh.X25519().NewPrivateKey(digest[:32])
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// isUUID reports whether s is a UUID in its canonical lower-case form, the
// only form Mixin ids take.
func isUUID(s string) bool { return uuidRE.MatchString(s) }
