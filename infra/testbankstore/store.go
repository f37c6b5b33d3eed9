// Package testbankstore keeps the Testbank adapter's state
// (api/compat/testbank) in a JetStream KV bucket.
package testbankstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/api/compat/testbank"
	"github.com/nats-ledger/ledger/infra/kvjson"
	"github.com/nats-ledger/ledger/journalio"
)

// Store keeps the Testbank adapter's users (with their token hashes) and
// accounts in a JetStream KV bucket (file storage, one revision per
// key): durable across restarts; a user's list of accounts is updated
// with a revision check, so two concurrent creations both land.
type Store struct {
	b  *kvjson.Bucket
	kv jetstream.KeyValue
}

var _ testbank.Store = (*Store)(nil)

// Bucket is the KV bucket of a ledger's Testbank adapter.
func Bucket(n journalio.Names) string { return "LEDGER_" + n.Ledger + "_TESTBANK" }

// valueMax bounds one value: a user's list of at most 50 account ids is
// the largest, under 1 KB.
const valueMax = 16 << 10

// casRetries bounds the retries of a revision-checked update that lost
// a race; each loss means another request's update landed.
const casRetries = 16

// Keys: user.<id> holds a user, token.<sha256> its id, account.<id> an
// account, accounts.<user id> the user's account ids, oldest first.
const (
	userKey     = "user."
	tokenKey    = "token."
	accountKey  = "account."
	accountsKey = "accounts."
)

// New opens (creating it if needed) the ledger's Testbank bucket,
// with replicas copies (0: keep what it has; ADR 0025).
func New(ctx context.Context, js jetstream.JetStream, n journalio.Names, replicas int) (*Store, error) {
	b, err := kvjson.Open(ctx, js, kvjson.Config{Name: Bucket(n), Description: "ledger " + n.Ledger + " Testbank adapter: users, token hashes, accounts",
		MaxValue: valueMax, NotFound: testbank.ErrNotFound, Exists: testbank.ErrExists, Replicas: replicas})
	if err != nil {
		return nil, err
	}
	return &Store{b: b, kv: b.KV}, nil
}

// CreateUser writes the user, then its token index: a token finds its
// user only once both are stored.
func (s *Store) CreateUser(ctx context.Context, u testbank.User) error {
	return s.b.CreateIndexed(ctx, userKey+u.ID, u, tokenKey+u.TokenHash, u.ID)
}

// UserByTokenHash reads the user of a token hash.
func (s *Store) UserByTokenHash(ctx context.Context, hash string) (testbank.User, error) {
	var u testbank.User
	if !kvjson.SafeKeyPart(hash) {
		return u, testbank.ErrNotFound
	}
	err := s.b.GetIndexed(ctx, "token", tokenKey+hash, userKey, &u)
	return u, err
}

// CreateAccount writes the account, then appends it to its owner's list.
func (s *Store) CreateAccount(ctx context.Context, a testbank.Account) error {
	var u testbank.User
	if _, err := s.b.Get(ctx, userKey+a.Owner, &u); err != nil {
		return err
	}
	ids, rev, err := s.accountIDs(ctx, a.Owner)
	if err != nil {
		return err
	}
	if len(ids) >= testbank.MaxAccountsPerUser {
		return testbank.ErrFull
	}
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if _, err := s.kv.Create(ctx, accountKey+a.ID, data); err != nil {
		return s.b.Err("create account", err)
	}
	for range casRetries {
		if len(ids) >= testbank.MaxAccountsPerUser {
			_ = s.kv.Delete(ctx, accountKey+a.ID)
			return testbank.ErrFull
		}
		list, _ := json.Marshal(append(ids, a.ID))
		err = s.b.PutRev(ctx, accountsKey+a.Owner, list, rev)
		if err == nil {
			return nil
		}
		if !kvjson.IsStale(err) {
			return fmt.Errorf("accounts of %s: %w", a.Owner, err)
		}
		if ids, rev, err = s.accountIDs(ctx, a.Owner); err != nil {
			return err
		}
	}
	return fmt.Errorf("accounts of %s: too many concurrent updates", a.Owner)
}

// accountIDs reads a user's account ids and the list's revision (0: none).
func (s *Store) accountIDs(ctx context.Context, userID string) ([]string, uint64, error) {
	var ids []string
	rev, err := s.b.Get(ctx, accountsKey+userID, &ids)
	if errors.Is(err, testbank.ErrNotFound) {
		return nil, 0, nil
	}
	return ids, rev, err
}

// Account reads an account by id.
func (s *Store) Account(ctx context.Context, id string) (testbank.Account, error) {
	var a testbank.Account
	if !kvjson.SafeKeyPart(id) {
		return a, testbank.ErrNotFound
	}
	_, err := s.b.Get(ctx, accountKey+id, &a)
	return a, err
}

// Accounts lists a user's accounts, oldest first.
func (s *Store) Accounts(ctx context.Context, userID string) ([]testbank.Account, error) {
	if !kvjson.SafeKeyPart(userID) {
		return nil, nil
	}
	ids, _, err := s.accountIDs(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]testbank.Account, 0, len(ids))
	for _, id := range ids[:min(len(ids), testbank.MaxAccountsPerUser)] {
		a, err := s.Account(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
