package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/journalio"
)

// Projector limits.
const (
	// applyTimeout bounds applying one record (1,000 transfers apply in
	// tens of milliseconds). A shutdown lets the record in flight finish
	// within it rather than abandon it.
	applyTimeout = 30 * time.Second
	// handlerAckWait is how long watermill's handler waits for the
	// projector to ack one message before giving up on it (the server then
	// redelivers it after consumerAckWait, and it is skipped as applied).
	handlerAckWait = applyTimeout + 5*time.Second
	// stopDrainTimeout bounds waiting for watermill's handler calls in
	// flight when a subscription stops (see journalio.Gate).
	stopDrainTimeout = 10 * time.Second
	// restartBackoffMin and restartBackoffMax bound the wait before
	// resubscribing after an error; it doubles while no record applies.
	restartBackoffMin = 100 * time.Millisecond
	restartBackoffMax = 10 * time.Second
)

// errSubscriptionEnded means the watermill subscription closed its channel
// on its own.
var errSubscriptionEnded = errors.New("journal subscription ended")

// Projector feeds a Store from the journal stream. Run it at most once at
// a time per Store: the Store has one writer.
type Projector struct {
	store    *Store
	js       jetstream.JetStream // on the shared connection: consumer deletes
	jsErr    error
	connOpts nats.Options // the subscriber's own connection's options
	names    journalio.Names
	logger   *slog.Logger
	position atomic.Uint64
}

// NewProjector returns a projector that applies the journal of the ledger
// names to store. nc is the shared connection: the projector copies its
// options now (set its handlers before) to open a connection of its own for
// the subscriber, and uses nc itself only to delete its consumers.
func NewProjector(store *Store, nc *nats.Conn, names journalio.Names, logger *slog.Logger) *Projector {
	if logger == nil {
		logger = slog.Default()
	}
	js, err := jetstream.New(nc)
	return &Projector{store: store, js: js, jsErr: err, connOpts: subscriberOptions(nc), names: names,
		logger: logger.With("component", "projector")}
}

// Position returns the last journal position the store has applied.
func (p *Projector) Position() uint64 { return max(p.position.Load(), p.store.AppliedPosition()) }

// Run applies the journal to the store until ctx ends, then returns nil. It
// starts after the store's checkpoint, so a restart resumes where the last
// run stopped and an empty store rebuilds everything. On any error (a
// record that does not apply, a lost connection) it logs, waits, and
// resubscribes from the checkpoint, so records are always applied in
// order; nothing is ever skipped.
func (p *Projector) Run(ctx context.Context) error {
	if p.jsErr != nil {
		return fmt.Errorf("projector: %w", p.jsErr)
	}
	backoff := restartBackoffMin
	for {
		progressed, err := p.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if progressed {
			backoff = restartBackoffMin
		}
		p.logger.Error("projector resubscribing from its checkpoint", "err", err, "position", p.Position(), "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, restartBackoffMax)
	}
}

// follow subscribes after the checkpoint and applies records until ctx ends
// or a record fails. It reports whether any record was applied.
func (p *Projector) follow(ctx context.Context) (progressed bool, err error) {
	cp, err := p.store.Checkpoint(ctx)
	if err != nil {
		return false, err
	}
	p.position.Store(cp.Position)
	conn, err := p.connOpts.Connect()
	if err != nil {
		return false, fmt.Errorf("projector connection: %w", err)
	}
	g := &journalio.Gate{}
	sub, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{
		Conn:                conn,
		Logger:              watermill.NopLogger{}, // it logs every message at Info otherwise
		AckWaitTimeout:      handlerAckWait,
		ResourceInitializer: consumerFrom(p.js, cp.Position+1, g, p.logger),
		Unmarshaler:         recordUnmarshaler{},
		ConsumeOptions:      []jetstream.PullConsumeOpt{jetstream.PullMaxBytes(prefetchBytes)},
		// Acks need no confirmation: a lost ack means a redelivery, and
		// ApplyRecord skips what it has applied.
		AckAsync: true,
	})
	if err != nil {
		conn.Close()
		return false, fmt.Errorf("journal subscriber: %w", err)
	}
	// The subscription's context is not ctx: ending it is the last step of
	// stop, after the gate has drained watermill's handler.
	subCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	msgs, err := sub.Subscribe(subCtx, p.names.JournalStream)
	if err != nil {
		cancel()
		_ = sub.Close()
		return false, fmt.Errorf("subscribe to the journal: %w", err)
	}
	defer p.stop(g, msgs, cancel, sub)
	for {
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case m, ok := <-msgs:
			if !ok {
				return progressed, errSubscriptionEnded
			}
			// Acks carry no meaning here (a subscription always starts
			// after the checkpoint), so each record is acked as soon as it
			// is decoded, which lets the next one arrive; the records that
			// come within a short window are applied in one transaction.
			var recs []Record
			events := 0
			deadline := time.Now().Add(batchLinger)
			for {
				rec, skip, err := p.decode(m)
				if err != nil {
					g.Close() // drop the redelivery: the next subscription starts from the checkpoint
					m.Nack()
					// What came before the bad record is good: keep it.
					if len(recs) > 0 {
						if aerr := p.apply(ctx, recs); aerr != nil {
							return progressed, errors.Join(err, aerr)
						}
						progressed = true
					}
					return progressed, err
				}
				m.Ack()
				if !skip {
					recs = append(recs, rec)
					events += len(rec.Events)
				}
				if len(recs) >= batchRecordsMax || events >= batchEventsMax {
					break
				}
				if m, ok = p.next(ctx, msgs, deadline); !ok {
					break
				}
			}
			if len(recs) == 0 {
				continue
			}
			if err := p.apply(ctx, recs); err != nil {
				g.Close()
				return progressed, err
			}
			progressed = true
		}
	}
}

// Bounds of one read-model transaction: records and events applied
// together, and how long after its first record it waits for more before
// committing. A commit writes every page the transaction dirtied to the
// WAL, a system call each: under a stream of small records (single
// transfers, group-committed) committing every few records was over half
// the projector's time. Answers do not wait for the read model (ADR 0008),
// so lingering delays only reads that follow a write, by at most this.
const (
	batchRecordsMax = 512
	batchEventsMax  = 20_000
	batchLinger     = 10 * time.Millisecond
)

// next returns the next record if one arrives before deadline.
func (p *Projector) next(ctx context.Context, msgs <-chan *message.Message, deadline time.Time) (*message.Message, bool) {
	select {
	case m, ok := <-msgs:
		return m, ok
	default:
	}
	wait := time.Until(deadline)
	if wait <= 0 {
		return nil, false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case m, ok := <-msgs:
		return m, ok
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// stop ends a subscription without tripping watermill-nats (see gate):
// close the gate, nack what its handler still offers until the calls in
// flight return, then cancel the subscription and close the subscriber,
// which drains its own connection and deletes the consumer.
func (p *Projector) stop(g *journalio.Gate, msgs <-chan *message.Message, cancel context.CancelFunc, sub *wmjs.Subscriber) {
	done := g.Close()
	timeout := time.NewTimer(stopDrainTimeout)
	defer timeout.Stop()
drain:
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				break drain
			}
			m.Nack()
		case <-done:
			break drain
		case <-timeout.C:
			p.logger.Warn("projector stop: watermill handler still busy", "timeout", stopDrainTimeout)
			break drain
		}
	}
	cancel()
	if err := sub.Close(); err != nil {
		p.logger.Warn("close journal subscriber", "err", err)
	}
}

// decode reads one journal record; skip reports a record applied before.
func (p *Projector) decode(m *message.Message) (rec Record, skip bool, err error) {
	md := m.Metadata
	if e := md.Get(metaError); e != "" {
		return rec, false, fmt.Errorf("journal message %s: %s", m.UUID, e)
	}
	pos, err1 := strconv.ParseUint(md.Get(metaPosition), 10, 64)
	first, err2 := strconv.ParseUint(md.Get(metaFirstSeq), 10, 64)
	last, err3 := strconv.ParseUint(md.Get(metaLastSeq), 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || pos == 0 || first == 0 || last < first {
		return rec, false, fmt.Errorf("journal message %s: bad position or sequence headers %q %q %q: %w",
			m.UUID, md.Get(metaPosition), md.Get(metaFirstSeq), md.Get(metaLastSeq), domain.ErrMalformedEvent)
	}
	if last <= p.store.appliedSeq() && pos <= p.Position() {
		return rec, true, nil // a redelivery of a record applied before
	}
	lines, err := domain.SplitRecord(m.Payload)
	if err != nil {
		return rec, false, fmt.Errorf("journal record %d: %w", pos, err)
	}
	if uint64(len(lines)) != last-first+1 {
		return rec, false, fmt.Errorf("journal record %d: %d events for sequences %d-%d: %w", pos, len(lines), first, last, domain.ErrMalformedEvent)
	}
	events := make([]*domain.Event, len(lines))
	for i, line := range lines {
		ev, err := domain.DecodeEvent(line)
		if err != nil {
			return rec, false, fmt.Errorf("journal record %d: %w", pos, err)
		}
		if ev.Seq != first+uint64(i) {
			return rec, false, fmt.Errorf("journal record %d: event %d at index %d of %d-%d: %w", pos, ev.Seq, i, first, last, domain.ErrMalformedEvent)
		}
		events[i] = ev
	}
	return Record{Position: pos, Events: events}, false, nil
}

// apply writes records in one transaction and advances the position.
func (p *Projector) apply(ctx context.Context, recs []Record) error {
	// The batch in flight finishes even when ctx ends, within applyTimeout.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	defer cancel()
	if err := p.store.ApplyRecords(actx, recs); err != nil {
		return err
	}
	return nil
}
