package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/webhook"
)

// stored is a webhook as kept in the definitions bucket, secret included.
type stored struct {
	ID           string             `json:"id"`
	URL          string             `json:"url"`
	Events       []domain.EventType `json:"events"`
	Account      string             `json:"account,omitempty"`
	Secret       string             `json:"secret"`
	FromSequence uint64             `json:"from_sequence"`
	CreatedAt    time.Time          `json:"created_at"`
}

func (w stored) view() webhook.Webhook {
	return webhook.Webhook{ID: w.ID, URL: w.URL, Events: slices.Clone(w.Events), Account: w.Account,
		FromSequence: w.FromSequence, CreatedAt: w.CreatedAt}
}

// consumerName is the webhook's durable consumer on the journal.
func consumerName(id string) string { return "webhook_" + id }

// Bucket names of a ledger.
func definitionsBucket(ledger string) string { return "WEBHOOKS_" + ledger }
func deadLettersBucket(ledger string) string { return "WEBHOOK_DEAD_LETTERS_" + ledger }

// deadLetterKey is "<webhook id>.<sequence, 20 digits>": the keys of one
// webhook share a prefix and sort by sequence.
func deadLetterKey(id string, seq uint64) string { return fmt.Sprintf("%s.%020d", id, seq) }

// newID returns a webhook id: "wh_" and 16 random hex digits.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "wh_" + hex.EncodeToString(b[:])
}

// newSecret returns a signing secret: "whsec_" and 32 random bytes in hex.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}

// ensureBuckets creates or updates the ledger's two buckets with replicas
// copies (0: keep what they have).
func ensureBuckets(ctx context.Context, js jetstream.JetStream, ledger string, replicas int) (defs, dead jetstream.KeyValue, err error) {
	defsReplicas, err := infra.KVReplicas(ctx, js, definitionsBucket(ledger), replicas)
	if err != nil {
		return nil, nil, err
	}
	deadReplicas, err := infra.KVReplicas(ctx, js, deadLettersBucket(ledger), replicas)
	if err != nil {
		return nil, nil, err
	}
	defs, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       definitionsBucket(ledger),
		Description:  "webhooks of ledger " + ledger,
		History:      1,
		MaxValueSize: definitionMaxBytes,
		Storage:      jetstream.FileStorage,
		Replicas:     defsReplicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("webhooks bucket: %w", err)
	}
	dead, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       deadLettersBucket(ledger),
		Description:  "webhook dead letters of ledger " + ledger,
		History:      1,
		MaxValueSize: deadLetterMaxBytes,
		MaxBytes:     deadLettersBucketMaxBytes,
		Storage:      jetstream.FileStorage,
		Replicas:     deadReplicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("webhook dead letters bucket: %w", err)
	}
	return defs, dead, nil
}

// entries returns the current entries of kv under filter (every key when
// empty), values included.
func entries(ctx context.Context, kv jetstream.KeyValue, filter string) ([]jetstream.KeyValueEntry, error) {
	var w jetstream.KeyWatcher
	var err error
	if filter == "" {
		w, err = kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	} else {
		w, err = kv.WatchFiltered(ctx, []string{filter}, jetstream.IgnoreDeletes())
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = w.Stop() }()
	var out []jetstream.KeyValueEntry
	for {
		select {
		case e := <-w.Updates():
			if e == nil { // the initial values are all in
				return out, nil
			}
			out = append(out, e)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// loadAll returns every stored webhook, oldest first.
func (s *Service) loadAll(ctx context.Context) ([]stored, error) {
	es, err := entries(ctx, s.defs, "")
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	out := make([]stored, 0, len(es))
	for _, e := range es {
		var w stored
		if err := json.Unmarshal(e.Value(), &w); err != nil {
			return nil, fmt.Errorf("webhook %s: %w", e.Key(), err)
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b stored) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// load returns one stored webhook, or webhook.ErrNotFound.
func (s *Service) load(ctx context.Context, id string) (stored, error) {
	e, err := s.defs.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return stored{}, webhook.ErrNotFound
	}
	if err != nil {
		return stored{}, fmt.Errorf("webhook %s: %w", id, err)
	}
	var w stored
	if err := json.Unmarshal(e.Value(), &w); err != nil {
		return stored{}, fmt.Errorf("webhook %s: %w", id, err)
	}
	return w, nil
}
