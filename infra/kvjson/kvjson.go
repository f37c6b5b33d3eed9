// Package kvjson keeps JSON values in a JetStream KV bucket for the
// adapters' own state (users, sessions, tokens, mappings): one place for
// how such a bucket is opened, how a value is read with its revision, how
// a record and its index are created, and how KV errors become the
// adapter's own.
package kvjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/infra"
)

// Bucket is an opened KV bucket and the errors its adapter answers with:
// NotFound for a key that is absent or deleted, Exists (wrapped) for a
// create of a key that is there.
type Bucket struct {
	KV       jetstream.KeyValue
	NotFound error
	Exists   error
}

// Config says how to open a bucket.
type Config struct {
	Name        string
	Description string
	// MaxValue bounds one value in bytes: what the adapter stores per key
	// is small and bounded, so a larger value is a bug or an attack.
	MaxValue int32
	NotFound error
	Exists   error
	// Replicas is the bucket's replica count (ADR 0025); 0 keeps what it
	// has, 1 for a new one.
	Replicas int
}

// Open opens the bucket, creating it if needed: file storage, one
// revision per key (durable across restarts; updates are revision-checked
// by their callers where two may race).
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Bucket, error) {
	replicas, err := infra.KVReplicas(ctx, js, cfg.Name, cfg.Replicas)
	if err != nil {
		return nil, err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       cfg.Name,
		Description:  cfg.Description,
		History:      1,
		Storage:      jetstream.FileStorage,
		MaxValueSize: cfg.MaxValue,
		Replicas:     replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", cfg.Name, err)
	}
	return &Bucket{KV: kv, NotFound: cfg.NotFound, Exists: cfg.Exists}, nil
}

// Get reads key's JSON value into v and returns its revision.
func (b *Bucket) Get(ctx context.Context, key string, v any) (uint64, error) {
	e, err := b.KV.Get(ctx, key)
	if err != nil {
		return 0, b.Err(key, err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return e.Revision(), nil
}

// CreateIndexed creates key with v's JSON, then indexKey holding id: the
// record is found through its index only once both are stored.
func (b *Bucket) CreateIndexed(ctx context.Context, key string, v any, indexKey, id string) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := b.KV.Create(ctx, key, data); err != nil {
		return b.Err("create "+key, err)
	}
	if _, err := b.KV.Create(ctx, indexKey, []byte(id)); err != nil {
		return b.Err("create "+indexKey, err)
	}
	return nil
}

// GetIndexed reads the record an index entry of CreateIndexed names: the
// id at indexKey, then keyPrefix+id's JSON into v. what names the index
// in errors.
func (b *Bucket) GetIndexed(ctx context.Context, what, indexKey, keyPrefix string, v any) error {
	e, err := b.KV.Get(ctx, indexKey)
	if err != nil {
		return b.Err(what, err)
	}
	_, err = b.Get(ctx, keyPrefix+string(e.Value()), v)
	return err
}

// PutRev writes data at key if the key is still at rev (0: if it does not
// exist yet). An error for which IsStale holds means another writer got
// there first.
func (b *Bucket) PutRev(ctx context.Context, key string, data []byte, rev uint64) error {
	var err error
	if rev == 0 {
		_, err = b.KV.Create(ctx, key, data)
	} else {
		_, err = b.KV.Update(ctx, key, data, rev)
	}
	return err
}

// IsStale reports whether a PutRev lost a race: the key was created, or
// moved past rev, by another writer.
func IsStale(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) ||
		errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Err turns a KV error into the adapter's: NotFound, Exists (wrapped with
// what), or err wrapped with what.
func (b *Bucket) Err(what string, err error) error {
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return b.NotFound
	case errors.Is(err, jetstream.ErrKeyExists):
		return fmt.Errorf("%s: %w", what, b.Exists)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// SafeKeyPart reports whether an id read from a request may become part
// of a key: at most 64 bytes, none of them a character a KV key refuses
// or a subject treats specially.
func SafeKeyPart(s string) bool {
	return s != "" && len(s) <= 64 && !strings.ContainsAny(s, ".*> \t\r\n/\\")
}
