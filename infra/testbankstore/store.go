// Package testbankstore keeps the Testbank adapter's state
// (api/compat/testbank) in a JetStream KV bucket.
package testbankstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/api/compat/testbank"
	"github.com/nats-ledger/ledger/journalio"
)

// Store keeps the Testbank adapter's users (with their token hashes) and
// accounts in a JetStream KV bucket (file storage, one revision per
// key): durable across restarts; a user's list of accounts is updated
// with a revision check, so two concurrent creations both land.
type Store struct{ kv jetstream.KeyValue }

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

// New opens (creating it if needed) the ledger's Testbank bucket.
func New(ctx context.Context, js jetstream.JetStream, n journalio.Names) (*Store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       Bucket(n),
		Description:  "ledger " + n.Ledger + " Testbank adapter: users, token hashes, accounts",
		History:      1,
		Storage:      jetstream.FileStorage,
		MaxValueSize: valueMax,
	})
	if err != nil {
		return nil, fmt.Errorf("testbank bucket: %w", err)
	}
	return &Store{kv: kv}, nil
}

// CreateUser writes the user, then its token index: a token finds its
// user only once both are stored.
func (s *Store) CreateUser(ctx context.Context, u testbank.User) error {
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	if _, err := s.kv.Create(ctx, userKey+u.ID, data); err != nil {
		return kvErr("create user", err)
	}
	if _, err := s.kv.Create(ctx, tokenKey+u.TokenHash, []byte(u.ID)); err != nil {
		return kvErr("create token", err)
	}
	return nil
}

// UserByTokenHash reads the user of a token hash.
func (s *Store) UserByTokenHash(ctx context.Context, hash string) (testbank.User, error) {
	var u testbank.User
	if !safeKeyPart(hash) {
		return u, testbank.ErrNotFound
	}
	e, err := s.kv.Get(ctx, tokenKey+hash)
	if err != nil {
		return u, kvErr("token", err)
	}
	_, err = s.get(ctx, userKey+string(e.Value()), &u)
	return u, err
}

// CreateAccount writes the account, then appends it to its owner's list.
func (s *Store) CreateAccount(ctx context.Context, a testbank.Account) error {
	var u testbank.User
	if _, err := s.get(ctx, userKey+a.Owner, &u); err != nil {
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
		return kvErr("create account", err)
	}
	for range casRetries {
		if len(ids) >= testbank.MaxAccountsPerUser {
			_ = s.kv.Delete(ctx, accountKey+a.ID)
			return testbank.ErrFull
		}
		list, _ := json.Marshal(append(ids, a.ID))
		if rev == 0 {
			_, err = s.kv.Create(ctx, accountsKey+a.Owner, list)
		} else {
			_, err = s.kv.Update(ctx, accountsKey+a.Owner, list, rev)
		}
		if err == nil {
			return nil
		}
		if !isStale(err) {
			return fmt.Errorf("accounts of %s: %w", a.Owner, err)
		}
		if ids, rev, err = s.accountIDs(ctx, a.Owner); err != nil {
			return err
		}
	}
	return fmt.Errorf("accounts of %s: too many concurrent updates", a.Owner)
}

func isStale(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// accountIDs reads a user's account ids and the list's revision (0: none).
func (s *Store) accountIDs(ctx context.Context, userID string) ([]string, uint64, error) {
	var ids []string
	rev, err := s.get(ctx, accountsKey+userID, &ids)
	if errors.Is(err, testbank.ErrNotFound) {
		return nil, 0, nil
	}
	return ids, rev, err
}

// Account reads an account by id.
func (s *Store) Account(ctx context.Context, id string) (testbank.Account, error) {
	var a testbank.Account
	if !safeKeyPart(id) {
		return a, testbank.ErrNotFound
	}
	_, err := s.get(ctx, accountKey+id, &a)
	return a, err
}

// Accounts lists a user's accounts, oldest first.
func (s *Store) Accounts(ctx context.Context, userID string) ([]testbank.Account, error) {
	if !safeKeyPart(userID) {
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

func (s *Store) get(ctx context.Context, key string, v any) (uint64, error) {
	e, err := s.kv.Get(ctx, key)
	if err != nil {
		return 0, kvErr(key, err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return e.Revision(), nil
}

func kvErr(what string, err error) error {
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return testbank.ErrNotFound
	case errors.Is(err, jetstream.ErrKeyExists):
		return fmt.Errorf("%s: %w", what, testbank.ErrExists)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// safeKeyPart: ids read from requests become part of a key only when they
// hold no character a KV key refuses or a subject treats specially.
func safeKeyPart(s string) bool {
	return s != "" && len(s) <= 64 && !strings.ContainsAny(s, ".*> \t\r\n/\\")
}
