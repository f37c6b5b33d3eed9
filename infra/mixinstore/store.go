// Package mixinstore keeps the Mixin adapter's state (api/compat/mixin)
// in a JetStream KV bucket.
package mixinstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/api/compat/mixin"
	"github.com/nats-ledger/ledger/infra/kvjson"
	"github.com/nats-ledger/ledger/journalio"
)

// Store keeps the Mixin adapter's users, PIN state and asset mapping
// in a JetStream KV bucket (file storage, one revision per key): durable
// across restarts, and revision-checked updates make each PIN iterator
// usable once even with concurrent requests.
type Store struct {
	b  *kvjson.Bucket
	kv jetstream.KeyValue
}

var _ mixin.Store = (*Store)(nil)

// Bucket is the KV bucket of a ledger's Mixin adapter.
func Bucket(n journalio.Names) string { return "LEDGER_" + n.Ledger + "_MIXIN_USERS" }

// mixinValueMax bounds one value: a user record is about 600 bytes.
const mixinValueMax = 16 << 10

// Keys: user.<id> holds a user, session.<id> its user id, pin.<user id>
// its PIN state, asset.<asset id> a mapping and code.<CODE> the asset id
// that took the code.
const (
	mixinUserKey    = "user."
	mixinSessionKey = "session."
	mixinPinKey     = "pin."
	mixinAssetKey   = "asset."
	mixinCodeKey    = "code."
)

// New opens (creating it if needed) the ledger's Mixin bucket,
// with replicas copies (0: keep what it has; ADR 0025).
func New(ctx context.Context, js jetstream.JetStream, n journalio.Names, replicas int) (*Store, error) {
	b, err := kvjson.Open(ctx, js, kvjson.Config{Name: Bucket(n), Description: "ledger " + n.Ledger + " Mixin adapter: users, PIN state, asset mapping",
		MaxValue: mixinValueMax, NotFound: mixin.ErrNotFound, Exists: mixin.ErrExists, Replicas: replicas})
	if err != nil {
		return nil, err
	}
	return &Store{b: b, kv: b.KV}, nil
}

// CreateUser writes the user, then its session index: a user is found by
// its session only once both are stored.
func (s *Store) CreateUser(ctx context.Context, u mixin.User) error {
	return s.b.CreateIndexed(ctx, mixinUserKey+u.ID, u, mixinSessionKey+u.SessionID, u.ID)
}

// User reads a user by id.
func (s *Store) User(ctx context.Context, id string) (mixin.User, error) {
	var u mixin.User
	if !kvjson.SafeKeyPart(id) {
		return u, mixin.ErrNotFound
	}
	_, err := s.b.Get(ctx, mixinUserKey+id, &u)
	return u, err
}

// UserBySession reads a user by session id.
func (s *Store) UserBySession(ctx context.Context, sessionID string) (mixin.User, error) {
	if !kvjson.SafeKeyPart(sessionID) {
		return mixin.User{}, mixin.ErrNotFound
	}
	var u mixin.User
	err := s.b.GetIndexed(ctx, "session", mixinSessionKey+sessionID, mixinUserKey, &u)
	return u, err
}

// PinState reads a user's PIN state and its revision (0 when none).
func (s *Store) PinState(ctx context.Context, userID string) (mixin.PinState, uint64, error) {
	var st mixin.PinState
	rev, err := s.b.Get(ctx, mixinPinKey+userID, &st)
	if errors.Is(err, mixin.ErrNotFound) {
		return mixin.PinState{}, 0, nil
	}
	return st, rev, err
}

// UpdatePinState writes st if the key is still at rev.
func (s *Store) UpdatePinState(ctx context.Context, userID string, st mixin.PinState, rev uint64) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	err = s.b.PutRev(ctx, mixinPinKey+userID, data, rev)
	if kvjson.IsStale(err) {
		return mixin.ErrStale
	}
	if err != nil {
		return fmt.Errorf("pin state: %w", err)
	}
	return nil
}

// PutAsset takes the code first, then maps the asset id to it.
func (s *Store) PutAsset(ctx context.Context, a mixin.Asset) error {
	var old mixin.Asset
	if _, err := s.b.Get(ctx, mixinAssetKey+a.AssetID, &old); err == nil {
		if old != a {
			return fmt.Errorf("asset %s is %s: %w", a.AssetID, old.Code, mixin.ErrExists)
		}
		return nil
	} else if !errors.Is(err, mixin.ErrNotFound) {
		return err
	}
	as, err := s.Assets(ctx)
	if err != nil {
		return err
	}
	if len(as) >= mixin.MaxAssets {
		return mixin.ErrFull
	}
	if _, err := s.kv.Create(ctx, mixinCodeKey+a.Code, []byte(a.AssetID)); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return s.b.Err("asset code", err)
		}
		e, err := s.kv.Get(ctx, mixinCodeKey+a.Code)
		if err != nil {
			return s.b.Err("asset code", err)
		}
		if string(e.Value()) != a.AssetID {
			return fmt.Errorf("code %s is taken by asset %s: %w", a.Code, e.Value(), mixin.ErrExists)
		}
	}
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if _, err := s.kv.Create(ctx, mixinAssetKey+a.AssetID, data); err != nil {
		return s.b.Err("asset", err)
	}
	return nil
}

// Asset reads a mapping.
func (s *Store) Asset(ctx context.Context, assetID string) (mixin.Asset, error) {
	var a mixin.Asset
	if !kvjson.SafeKeyPart(assetID) {
		return a, mixin.ErrNotFound
	}
	_, err := s.b.Get(ctx, mixinAssetKey+assetID, &a)
	return a, err
}

// Assets lists the mappings, at most mixin.MaxAssets.
func (s *Store) Assets(ctx context.Context) ([]mixin.Asset, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, mixinAssetKey+">")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("assets: %w", err)
	}
	defer func() { _ = lister.Stop() }()
	var out []mixin.Asset
	for k := range lister.Keys() {
		if len(out) >= mixin.MaxAssets {
			break
		}
		var a mixin.Asset
		if _, err := s.b.Get(ctx, k, &a); err != nil {
			if errors.Is(err, mixin.ErrNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
