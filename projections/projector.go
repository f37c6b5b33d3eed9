package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/tracing"
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
	connOpts nats.Options // for each subscription's own connection
	names    journalio.Names
	logger   *slog.Logger
	position atomic.Uint64
	tracer   trace.Tracer // nil: tracing off
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
	return &Projector{store: store, js: js, jsErr: err, connOpts: journalio.OwnConnOptions(nc, "ledger-projector"), names: names,
		logger: logger.With("component", "projector")}
}

// TraceWith makes the projector trace each read-model transaction with
// tracer, as a child of the processor's span that wrote its first record
// and linked to the others (ADR 0021). Call it before Run; without it, or
// with nil, nothing is traced.
func (p *Projector) TraceWith(tracer trace.Tracer) { p.tracer = tracer }

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
	sub, err := journalio.Subscribe(ctx, journalio.SubscriptionConfig{
		ConnOptions:    p.connOpts,
		JS:             p.js,
		Stream:         p.names.JournalStream,
		Consumer:       consumerFrom(cp.Position + 1),
		HandlerWait:    handlerAckWait,
		ConsumeOptions: []jetstream.PullConsumeOpt{jetstream.PullMaxBytes(prefetchBytes)},
		Logger:         p.logger,
	})
	if err != nil {
		return false, err
	}
	defer p.stop(sub)
	for {
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case m, ok := <-sub.Records():
			if !ok {
				return progressed, errSubscriptionEnded
			}
			recs, derr := p.collect(ctx, sub, m)
			// What came before a bad record is good: keep it.
			if len(recs) > 0 {
				if err := p.apply(ctx, recs); err != nil {
					sub.StopDelivery()
					return progressed, errors.Join(derr, err)
				}
				progressed = true
			}
			if derr != nil {
				return progressed, derr
			}
		}
	}
}

// collect decodes m and the records that follow it within batchLinger, up
// to a batch's bounds, for one transaction. Acks carry no meaning here (a
// subscription always starts after the checkpoint), so each record is
// acked as soon as it is decoded, which lets the next one arrive. On a bad
// record it returns the records before it and the error, having nacked it
// and stopped the subscription's delivery: the next subscription starts
// from the checkpoint.
func (p *Projector) collect(ctx context.Context, sub *journalio.Subscription, m *message.Message) ([]Record, error) {
	var recs []Record
	events := 0
	deadline := time.Now().Add(batchLinger)
	for ok := true; ok; m, ok = p.next(ctx, sub.Records(), deadline) {
		rec, skip, err := p.decode(sub, m)
		if err != nil {
			sub.StopDelivery() // drop the redelivery
			m.Nack()
			return recs, err
		}
		m.Ack()
		if !skip {
			recs = append(recs, rec)
			events += len(rec.Events)
		}
		if len(recs) >= batchRecordsMax || events >= batchEventsMax {
			break
		}
	}
	return recs, nil
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

// stop ends a subscription (see journalio.Subscription.Close).
func (p *Projector) stop(sub *journalio.Subscription) {
	if err := sub.Close(); err != nil {
		p.logger.Warn("projector stop", "err", err)
	}
}

// decode reads one journal record; skip reports a record applied before.
func (p *Projector) decode(sub *journalio.Subscription, m *message.Message) (rec Record, skip bool, err error) {
	r, _, err := sub.Take(m)
	if err != nil {
		return rec, false, err
	}
	pos, first, last := r.Position, r.FirstSeq, r.LastSeq
	if last <= p.store.appliedSeq() && pos <= p.Position() {
		return rec, true, nil // a redelivery of a record applied before
	}
	lines, err := domain.SplitRecord(r.Data)
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
	return Record{Position: pos, Events: events, Trace: r.Trace}, false, nil
}

// apply writes records in one transaction and advances the position.
func (p *Projector) apply(ctx context.Context, recs []Record) error {
	// The batch in flight finishes even when ctx ends, within applyTimeout.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	defer cancel()
	if p.tracer != nil {
		span := p.traceApply(recs)
		defer span.End()
	}
	if err := p.store.ApplyRecords(actx, recs); err != nil {
		return err
	}
	return nil
}

// traceApply starts the span of one read-model transaction.
func (p *Projector) traceApply(recs []Record) trace.Span {
	var parents []string
	for _, r := range recs {
		if r.Trace != "" && (len(parents) == 0 || parents[len(parents)-1] != r.Trace) {
			parents = append(parents, r.Trace)
		}
		if len(parents) > tracing.MaxLinks {
			break
		}
	}
	_, span := tracing.Start(p.tracer, "ledger.project", parents, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.Int("ledger.records", len(recs)),
			attribute.Int64("ledger.first_position", int64(recs[0].Position))))
	return span
}
