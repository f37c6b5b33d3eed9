package infra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/journalio"
)

// The processor's lease (ADR 0026): one key in a KV bucket per ledger,
// renewed by its holder with revision-checked updates. A standby takes it
// over when it has seen the same revision for longer than the TTL, by an
// update that expects that revision, so that of several standbys one
// wins. Time is only ever measured on each instance's own monotonic
// clock, from when it sent a renewal or saw a revision: no two clocks are
// compared.
const (
	leaseKey = "processor"
	// DefaultLeaseTTL is how long a lease lasts without renewal. A
	// standby takes over between TTL-renewal and TTL+2*poll after the
	// holder's death (2 to 3.5 s): under the 5 s the product promises. It must stay
	// longer than the command source's pull expiry (commandPullExpiry),
	// so that a frozen holder's pull requests are gone before a standby
	// consumes.
	DefaultLeaseTTL = 3 * time.Second
	// DefaultLeaseRenew is how often the holder renews.
	DefaultLeaseRenew = time.Second
	// DefaultLeasePoll is how often a standby reads the lease.
	DefaultLeasePoll = 250 * time.Millisecond
	// leaseMargin is taken off the holder's own view of its lease, so that
	// it stops deciding before any standby may take over, whatever the
	// small difference in the two clocks' rates.
	leaseMargin = 300 * time.Millisecond
	// leaseRequestTimeout bounds one read or write of the lease.
	leaseRequestTimeout = time.Second
)

// LeaseConfig configures a Lease. Zero durations take the defaults.
type LeaseConfig struct {
	// ID names this instance, uniquely among the ledger's processors. An
	// instance that finds the lease held under its own ID takes it back
	// at once (a restart); two live instances with one ID would take it
	// from each other (the fenced append would still keep the journal
	// whole).
	ID       string
	TTL      time.Duration
	Renew    time.Duration
	Poll     time.Duration
	Replicas int // of the bucket; 0: what it has, or 1 for a new one
	Logger   *slog.Logger
}

// LeaseValue is the lease's value: who holds it, for operators and the
// status endpoint. Expiry is not in it: each instance judges it on its
// own clock.
type LeaseValue struct {
	Holder string    `json:"holder"`
	Since  time.Time `json:"since"` // when the holder took it (its clock)
	TTLMs  int64     `json:"ttl_ms"`
}

// Lease elects the processor of a ledger through a JetStream KV bucket.
type Lease struct {
	kv  jetstream.KeyValue
	cfg LeaseConfig

	mu     sync.Mutex
	holder string // the holder last seen ("" unknown or none)

	// frozen, when set, is waited on by the renewing goroutine at each
	// wake-up: a test freezes renewals as a paused process would
	// (export_test.go).
	frozen atomic.Pointer[chan struct{}]
}

// pausePoint waits while a test has frozen the lease.
func (l *Lease) pausePoint() {
	if ch := l.frozen.Load(); ch != nil {
		<-*ch
	}
}

var _ commands.Elector = (*Lease)(nil)

// LeaseBucket is the KV bucket of the ledger's processor lease.
func LeaseBucket(n journalio.Names) string { return "LEDGER_" + n.Ledger + "_LEASE" }

// EnsureLease creates the lease bucket if needed and returns the lease.
func EnsureLease(ctx context.Context, js jetstream.JetStream, n journalio.Names, cfg LeaseConfig) (*Lease, error) {
	if cfg.ID == "" {
		return nil, errors.New("processor lease: an instance id is required")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultLeaseTTL
	}
	if cfg.Renew <= 0 {
		cfg.Renew = DefaultLeaseRenew
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultLeasePoll
	}
	if cfg.TTL <= commandPullExpiry {
		return nil, fmt.Errorf("processor lease: a TTL of %v must be longer than the pull expiry, %v", cfg.TTL, commandPullExpiry)
	}
	if cfg.Renew >= cfg.TTL-leaseMargin {
		return nil, fmt.Errorf("processor lease: renewal every %v does not fit in a TTL of %v", cfg.Renew, cfg.TTL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	replicas, err := replicasFor(ctx, js, KVStream(LeaseBucket(n)), cfg.Replicas)
	if err != nil {
		return nil, err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      LeaseBucket(n),
		Description: "the processor lease of ledger " + n.Ledger + " (ADR 0026)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("lease bucket: %w", err)
	}
	return &Lease{kv: kv, cfg: cfg}, nil
}

// ID returns this instance's name in the lease.
func (l *Lease) ID() string { return l.cfg.ID }

// Holder returns the holder of the lease as last seen by this instance
// (itself while it holds it), or "" if none was seen.
func (l *Lease) Holder() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holder
}

func (l *Lease) seen(holder string) {
	l.mu.Lock()
	l.holder = holder
	l.mu.Unlock()
}

// Campaign waits until this instance holds the lease (commands.Elector).
func (l *Lease) Campaign(ctx context.Context) (context.Context, func(), error) {
	var w watch
	tick := time.NewTicker(l.cfg.Poll)
	defer tick.Stop()
	for {
		rev, sent, err := l.tryAcquire(ctx, &w)
		if err != nil && ctx.Err() == nil {
			l.cfg.Logger.Warn("processor lease", "err", err)
		}
		if rev > 0 {
			l.seen(l.cfg.ID)
			l.cfg.Logger.Info("processor lease acquired", "id", l.cfg.ID, "revision", rev)
			held, release := l.hold(ctx, rev, sent)
			return held, release, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// watch is what a standby has seen of the lease: a revision and when it
// first saw it.
type watch struct {
	rev uint64
	at  time.Time
}

// tryAcquire takes the lease if it is free, expired or this instance's
// own. It returns the revision written (0: not acquired) and when the
// write was sent, from which the holder counts its lease.
func (l *Lease) tryAcquire(ctx context.Context, w *watch) (uint64, time.Time, error) {
	rctx, cancel := context.WithTimeout(ctx, leaseRequestTimeout)
	defer cancel()
	e, err := l.kv.Get(rctx, leaseKey)
	sent := time.Now()
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		l.seen("")
		rev, err := l.kv.Create(rctx, leaseKey, l.value(sent))
		return acquired(rev, sent, err)
	case err != nil:
		return 0, sent, err
	}
	var v LeaseValue
	_ = json.Unmarshal(e.Value(), &v) // an unreadable value is held by "" and expires like any
	l.seen(v.Holder)
	if v.Holder != l.cfg.ID {
		if e.Revision() != w.rev {
			*w = watch{rev: e.Revision(), at: sent}
			return 0, sent, nil
		}
		if time.Since(w.at) < l.cfg.TTL {
			return 0, sent, nil
		}
		l.cfg.Logger.Warn("processor lease expired; taking over", "holder", v.Holder, "revision", w.rev, "unchanged_for", time.Since(w.at))
	}
	rev, err := l.kv.Update(rctx, leaseKey, l.value(sent), e.Revision())
	return acquired(rev, sent, err)
}

// acquired sorts a write's outcome: another instance wrote first is not
// an error.
func acquired(rev uint64, sent time.Time, err error) (uint64, time.Time, error) {
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, sent, nil
	}
	if err != nil {
		return 0, sent, err
	}
	return rev, sent, nil
}

func (l *Lease) value(now time.Time) []byte {
	b, _ := json.Marshal(LeaseValue{Holder: l.cfg.ID, Since: now.UTC(), TTLMs: l.cfg.TTL.Milliseconds()})
	return b
}

// hold renews the lease until it is lost, ctx ends or release is called.
// The returned context ends at the first of these. A renewal refused for
// its revision means another instance took the lease: lost at once. Any
// other failure is retried until the lease, counted from the last write
// that succeeded, has run out (less leaseMargin).
func (l *Lease) hold(ctx context.Context, rev uint64, sent time.Time) (context.Context, func()) {
	held, lose := context.WithCancelCause(ctx)
	stopped := make(chan struct{})
	var once sync.Once
	release := func() {
		once.Do(func() {
			lose(errors.New("lease released"))
			<-stopped
		})
	}
	go func() {
		defer close(stopped)
		last := l.renew(held, lose, rev, sent)
		// Give it up so that a standby need not wait for it to expire;
		// refused (and harmless) when another instance holds it now.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseRequestTimeout)
		defer cancel()
		if err := l.kv.Delete(dctx, leaseKey, jetstream.LastRevision(last)); err == nil {
			l.cfg.Logger.Info("processor lease released", "id", l.cfg.ID)
		}
		l.seen("")
	}()
	return held, release
}

// renew renews the lease every Renew until held ends, which it ends
// itself when the lease is lost. It returns the last revision written.
func (l *Lease) renew(held context.Context, lose context.CancelCauseFunc, rev uint64, sent time.Time) uint64 {
	until := sent.Add(l.cfg.TTL - leaseMargin)
	tick := time.NewTicker(l.cfg.Renew)
	defer tick.Stop()
	for {
		expiry := time.NewTimer(time.Until(until))
		select {
		case <-held.Done():
			expiry.Stop()
			return rev
		case <-expiry.C:
			l.pausePoint()
			l.cfg.Logger.Warn("processor lease ran out before it could be renewed; stepping down", "id", l.cfg.ID)
			lose(errors.New("lease expired"))
			return rev
		case <-tick.C:
			expiry.Stop()
		}
		l.pausePoint()
		if time.Now().After(until) {
			// Woken late (a pause): the lease may be another's already.
			lose(errors.New("lease expired"))
			return rev
		}
		at := time.Now()
		rctx, cancel := context.WithTimeout(held, leaseRequestTimeout)
		next, err := l.kv.Update(rctx, leaseKey, l.value(at), rev)
		cancel()
		switch {
		case err == nil:
			rev, until = next, at.Add(l.cfg.TTL-leaseMargin)
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists):
			l.cfg.Logger.Warn("processor lease taken by another instance; stepping down", "id", l.cfg.ID)
			lose(errors.New("lease taken"))
			return rev
		case held.Err() == nil:
			l.cfg.Logger.Warn("processor lease renewal failed; retrying", "err", err)
		}
	}
}
