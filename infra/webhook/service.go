package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/subscriber"
	"github.com/nats-ledger/ledger/webhook"
)

// Service stores webhooks and runs their deliveries.
type Service struct {
	cfg    Config
	nc     *nats.Conn
	js     jetstream.JetStream
	ledger string
	defs   jetstream.KeyValue // webhook definitions, by id
	dead   jetstream.KeyValue // dead letters, by deadLetterKey
	client *http.Client
	log    *slog.Logger
	clock  Clock
	// lookup resolves a host name at creation; nil is the resolver the
	// dialer uses (net.DefaultResolver). Tests set it.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)

	mu      sync.Mutex // serializes Create and Delete; guards runners and owner
	runners map[string]*runner
	closed  bool

	// With Config.Exclusive: the delivery lease, whether this service
	// holds it, and the renewal's stop and end (lease.go).
	lease      *lease
	owner      bool
	stopRenew  context.CancelFunc
	renewEnded chan struct{}
}

var _ webhook.Registry = (*Service)(nil)

// ErrClosed means the Service was closed.
var ErrClosed = errors.New("webhooks closed")

// Start creates the buckets if needed and starts the delivery of every
// stored webhook. nc is the process's connection; deliveries open
// connections of their own with its options (see subscriber.Config.Conn).
func Start(ctx context.Context, nc *nats.Conn, ledger string, cfg Config) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	s := &Service{cfg: cfg, nc: nc, js: js, ledger: ledger, log: cfg.Logger.With("component", "webhooks"),
		clock: cfg.Clock, runners: map[string]*runner{}}
	s.client = s.newClient()
	if len(cfg.AllowNetworks) > 0 {
		s.log.Warn("webhooks may reach these internal networks (--webhook-allow-networks)", "networks", cfg.AllowNetworks)
	}
	if s.defs, s.dead, err = ensureBuckets(ctx, js, ledger, cfg.Replicas); err != nil {
		return nil, err
	}
	if cfg.Exclusive {
		return s, s.startLease(ctx)
	}
	all, err := s.loadAll(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range all {
		s.runners[w.ID] = s.run(w)
	}
	return s, nil
}

// startLease contends for the delivery lease once now, so that a service
// that finds it free delivers from its start, and then every
// leaseRenewEvery until Close.
func (s *Service) startLease(ctx context.Context) error {
	var err error
	if s.lease, err = openLease(ctx, s.js, s.ledger, s.cfg.Replicas); err != nil {
		return fmt.Errorf("webhook delivery lease: %w", err)
	}
	s.renew(ctx)
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopRenew, s.renewEnded = stop, make(chan struct{})
	go s.renewLoop(renewCtx, s.renewEnded)
	return nil
}

// Close stops every delivery, letting the ones in flight finish within
// routerCloseTimeout. Stored webhooks resume at the next Start.
func (s *Service) Close() {
	if s.stopRenew != nil {
		s.stopRenew()
		<-s.renewEnded
	}
	s.mu.Lock()
	s.closed = true
	runners := s.runners
	s.runners = map[string]*runner{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.stop()
		}()
	}
	wg.Wait()
	s.client.CloseIdleConnections()
	if s.lease != nil {
		s.lease.release() // after the deliveries stopped: the next owner starts where they left off
	}
}

// Create stores a webhook and starts its delivery at the journal's end:
// its durable consumer exists before Create returns, so every matching
// event appended after the answer is delivered.
func (s *Service) Create(ctx context.Context, spec webhook.Spec) (webhook.Created, error) {
	if err := s.checkURL(ctx, spec.URL); err != nil {
		return webhook.Created{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return webhook.Created{}, ErrClosed
	}
	all, err := s.loadAll(ctx)
	if err != nil {
		return webhook.Created{}, err
	}
	if len(all) >= s.cfg.MaxWebhooks {
		return webhook.Created{}, fmt.Errorf("%w: at most %d webhooks; delete one first", webhook.ErrLimit, s.cfg.MaxWebhooks)
	}
	last, err := subscriber.LastSequence(ctx, s.js, s.ledger)
	if err != nil {
		return webhook.Created{}, err
	}
	w := stored{ID: newID(), URL: spec.URL, Events: spec.Events, Account: spec.Account, Secret: newSecret(),
		FromSequence: last + 1, CreatedAt: time.Now().UTC()}
	data, err := json.Marshal(w)
	if err != nil {
		return webhook.Created{}, err
	}
	if _, err := s.defs.Create(ctx, w.ID, data); err != nil {
		return webhook.Created{}, fmt.Errorf("store webhook: %w", err)
	}
	sub, err := s.subscriber(w)
	if err == nil {
		err = sub.Ensure(ctx)
	}
	if err != nil {
		_ = s.defs.Purge(context.WithoutCancel(ctx), w.ID)
		return webhook.Created{}, fmt.Errorf("webhook consumer: %w", err)
	}
	if s.lease == nil || s.owner {
		s.runners[w.ID] = s.run(w) // otherwise the owner starts it at its next renewal
	}
	s.log.Info("webhook created", "id", w.ID, "url", w.URL, "events", w.Events, "from_sequence", w.FromSequence)
	return webhook.Created{Webhook: w.view(), Secret: w.Secret}, nil
}

// List returns every webhook, oldest first, without secrets.
func (s *Service) List(ctx context.Context) ([]webhook.Webhook, error) {
	all, err := s.loadAll(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]webhook.Webhook, len(all))
	for i, w := range all {
		out[i] = w.view()
	}
	return out, nil
}

// Get returns one webhook without its secret.
func (s *Service) Get(ctx context.Context, id string) (webhook.Webhook, error) {
	w, err := s.load(ctx, id)
	if err != nil {
		return webhook.Webhook{}, err
	}
	return w.view(), nil
}

// Delete stops the webhook's delivery (a delivery in flight finishes),
// removes its consumer, its dead letters and its definition.
func (s *Service) Delete(ctx context.Context, id string) (webhook.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.load(ctx, id)
	if err != nil {
		return webhook.Webhook{}, err
	}
	if r := s.runners[id]; r != nil {
		r.stop()
		delete(s.runners, id)
	}
	if err := s.js.DeleteConsumer(ctx, subscriber.JournalStream(s.ledger), consumerName(id)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return webhook.Webhook{}, fmt.Errorf("delete webhook consumer: %w", err)
	}
	dls, err := entries(ctx, s.dead, id+".>")
	if err != nil {
		return webhook.Webhook{}, fmt.Errorf("webhook dead letters: %w", err)
	}
	for _, e := range dls {
		if err := s.dead.Purge(ctx, e.Key()); err != nil {
			return webhook.Webhook{}, fmt.Errorf("delete dead letter: %w", err)
		}
	}
	if err := s.defs.Purge(ctx, id); err != nil {
		return webhook.Webhook{}, fmt.Errorf("delete webhook: %w", err)
	}
	s.log.Info("webhook deleted", "id", id)
	return w.view(), nil
}

// subscriber is the webhook's journal subscription: its durable consumer,
// its event types, from its first sequence.
func (s *Service) subscriber(w stored) (*subscriber.Subscriber, error) {
	return subscriber.New(subscriber.Config{Conn: s.nc, Ledger: s.ledger, Durable: consumerName(w.ID),
		Types: w.Events, Start: subscriber.FromSequence(w.FromSequence), Logger: s.log})
}
