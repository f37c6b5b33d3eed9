package mixin

import (
	"context"
	"errors"
	"time"
)

// Store keeps the adapter's own state durably: users with their public
// session keys, their PIN keys and PIN hashes, each user's PIN state
// (last iterator, recent failures) and the operator's asset mapping.
// Money is never here: balances and transfers are the ledger's.
// infra.MixinStore implements it on a JetStream KV bucket.
type Store interface {
	// CreateUser stores a new user. It returns ErrExists when the user or
	// the session id is taken.
	CreateUser(ctx context.Context, u User) error
	// User returns a user by id, or ErrNotFound.
	User(ctx context.Context, id string) (User, error)
	// UserBySession returns the user of a session id, or ErrNotFound.
	UserBySession(ctx context.Context, sessionID string) (User, error)
	// PinState returns a user's PIN state and its revision; a user
	// without one has the zero state at revision 0.
	PinState(ctx context.Context, userID string) (PinState, uint64, error)
	// UpdatePinState replaces the state last read at revision rev (0:
	// none yet). It returns ErrStale when another update came first, so
	// that two requests cannot both use one iterator or both escape a
	// failure count.
	UpdatePinState(ctx context.Context, userID string, s PinState, rev uint64) error
	// PutAsset maps a Mixin asset id to a native asset code. The same
	// mapping again succeeds; a different one for the asset id or the
	// code returns ErrExists; a new one past MaxAssets, ErrFull.
	PutAsset(ctx context.Context, a Asset) error
	// Asset returns the mapping of a Mixin asset id, or ErrNotFound.
	Asset(ctx context.Context, assetID string) (Asset, error)
	// Assets lists the mappings, at most MaxAssets.
	Assets(ctx context.Context) ([]Asset, error)
}

// Errors of a Store.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists with another definition")
	ErrStale    = errors.New("changed since it was read")
	ErrFull     = errors.New("too many asset mappings")
)

// MaxAssets bounds the asset mappings: GET /assets reads one balance per
// mapping, so their number bounds that request's cost.
const MaxAssets = 256

// User is a registered Mixin user. The session's private key is not
// kept: it is handed to the user once, in the keystore.
type User struct {
	ID        string    `json:"user_id"`
	SessionID string    `json:"session_id"`
	FullName  string    `json:"full_name"`
	Scope     string    `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
	// SessionPublicKey is the session's Ed25519 public key, which
	// verifies the user's tokens.
	SessionPublicKey []byte `json:"session_public_key"`
	// SessionCurveKey is the session key's X25519 public key (from the
	// same seed, as the SDK derives it), the other half of the PIN key.
	SessionCurveKey []byte `json:"session_curve_key"`
	// PinPrivateKey is the server's X25519 private key for the session;
	// its public key is the keystore's pin_token.
	PinPrivateKey []byte `json:"pin_private_key"`
	// PinHash is the PIN's salted Argon2id hash.
	PinHash PinHash `json:"pin_hash"`
}

// PinState is what a user's PIN checks remember.
type PinState struct {
	// LastIterator is the highest iterator accepted: an encrypted PIN
	// carries one, and it must grow, so a captured PIN cannot be replayed.
	LastIterator uint64 `json:"last_iterator"`
	// Failures are the times of the latest wrong PINs within the lockout
	// window, at most maxPinFailures.
	Failures []time.Time `json:"failures,omitempty"`
}

// Asset maps a Mixin asset id (a UUID) to a native asset of scale 8.
type Asset struct {
	AssetID string `json:"asset_id"`
	Code    string `json:"code"`
	Symbol  string `json:"symbol"`
	Name    string `json:"name"`
}
