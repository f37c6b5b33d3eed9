package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/tracing"
)

// answer is the reply owed to one command message.
type answer struct {
	subject string
	reply   Reply
}

// errCommandGap means a command message was delivered after a gap in the
// stream's sequences: a message before it was not delivered (a client's
// slow-consumer drop, say). Nothing after the gap is decided or
// acknowledged until delivery starts again from the acknowledged prefix.
var errCommandGap = errors.New("gap in the command sequences delivered")

// batch is what deciding a run of command messages produced.
type batch struct {
	events  []*domain.Event
	wholes  [][2]int // ranges of events (atomic batches) that go into one record each
	answers []answer
	last    int // index of the last message decided; -1 for none
	// transfers holds the results of the transfer items decided, for
	// Config.Observer: at most the items of the batch's messages, which
	// MaxBatchMessages and MaxItemsPerCommand bound.
	transfers []transferOutcome
}

// transferOutcome is what the Observer is told of one transfer decided.
type transferOutcome struct {
	outcome Outcome
	code    domain.Code
}

// observe tells Config.Observer of a batch journaled and its transfers.
func (p *Processor) observe(b *batch, decided time.Duration) {
	p.cfg.Observer.Batch(len(b.answers), len(b.events), decided)
	for _, r := range b.transfers {
		p.cfg.Observer.Transfer(r.outcome, r.code)
	}
}

// process decides a batch of command messages, appends their events,
// acknowledges the messages and sends the replies, in that order. It
// decides only the messages that follow the last one decided without a
// gap: a message after a gap, and everything after it, is left
// unacknowledged, and process returns errCommandGap once the ones before
// it are journaled.
func (p *Processor) process(msgs []CommandMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	var tp string // the batch span's traceparent, for its records
	if p.cfg.Tracer != nil {
		span := p.traceBatch(msgs)
		defer span.End()
		tp = tracing.Traceparent(span.SpanContext())
	}
	now, began := p.cfg.Now(), time.Now()
	b := batch{answers: make([]answer, 0, len(msgs)), last: -1}
	var gap error
	expired := false
	for i, m := range msgs {
		if m.Seq <= p.lastSeen {
			b.last = i
			continue // redelivered after an ack timeout; decided in this run
		}
		if m.Seq != p.lastSeen+1 {
			gap = fmt.Errorf("%w: command %d follows %d", errCommandGap, m.Seq, p.lastSeen)
			break
		}
		if p.lastSeen, b.last = m.Seq, i; !expired {
			// Before the batch's first command: the holds expired by its
			// clock (expiry.go).
			b.events, expired = append(b.events, p.state.ExpireHolds(now)...), true
		}
		if err := p.decideMessage(m, now, &b); err != nil {
			return err // the state is ahead of the journal: Run rebuilds
		}
	}
	if b.last < 0 {
		return gap
	}
	decided := time.Since(began)
	var lines map[*domain.Event][]byte // each event's journal line, for the replies
	if len(b.events) > 0 {
		records, last, err := p.encode(&b)
		if err != nil {
			return err
		}
		lines = linesOf(b.events, records)
		if tp != "" {
			for i := range records {
				records[i].Trace = tp
			}
		}
		if err := p.append(records, last); err != nil {
			return fmt.Errorf("%d events: %w", len(b.events), err)
		}
	}
	p.observe(&b, decided)
	done := msgs[b.last]
	p.decided.Store(max(p.decided.Load(), done.Seq))
	if err := done.Ack(); err != nil {
		// Harmless: the commands come back and are recognised as decided.
		p.cfg.Logger.Warn("ack commands", "err", err)
	}
	local, _ := p.notifier.(LocalReplier)
	for _, a := range b.answers {
		if a.subject == "" || local != nil && local.DeliverLocal(a.subject, a.reply) {
			continue
		}
		data, err := EncodeReply(nil, &a.reply, func(ev *domain.Event) []byte { return lines[ev] })
		if err != nil {
			return err
		}
		if err := p.notifier.Notify(a.subject, data); err != nil {
			p.cfg.Logger.Warn("notify", "subject", a.subject, "err", err)
		}
	}
	return gap
}

// traceBatch starts the span of deciding msgs: a child of the first
// traced request in them, linked to the others (ADR 0021).
func (p *Processor) traceBatch(msgs []CommandMessage) trace.Span {
	var parents []string
	for _, m := range msgs {
		parents = append(parents, m.Trace...)
		if len(parents) > tracing.MaxLinks {
			break
		}
	}
	_, span := tracing.Start(p.cfg.Tracer, "ledger.decide", parents, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.Int("ledger.command_messages", len(msgs)),
			attribute.Int64("ledger.command_seq", int64(msgs[0].Seq))))
	return span
}

// append stores records after the journal's last position, fenced, and
// moves the processor's position and hash to theirs. On an error the
// state is ahead of the journal: the caller returns it, and Run rebuilds.
func (p *Processor) append(records []domain.Record, last domain.Hash) error {
	ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
	pos, err := p.journal.Append(ctx, records, p.position)
	cancel()
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	p.position, p.lastHash = pos, last
	p.setHead(p.state.Seq(), last)
	return nil
}

// decideMessage decides one command message into b. Every message it
// decides for the first time leaves at least one event: when its items
// changed nothing, a CommandSkipped says so, so that the journal accounts
// for every command acknowledged (docs/audit.md). Its only error is the
// archive's, looking up posted ids the message needs.
func (p *Processor) decideMessage(m CommandMessage, now time.Time, b *batch) error {
	before := len(b.events)
	env, err := DecodeEnvelope(m.Data)
	if err != nil {
		// A malformed command can never succeed; retrying it would block
		// the ledger. It is journaled as skipped and acknowledged.
		if !p.state.Decided(domain.SkipRef(m.Seq, 0)) {
			p.cfg.Logger.Error("skipping malformed command", "seq", m.Seq, "err", err)
			b.events = append(b.events, p.state.Skip(m.Seq, 0, domain.SkipMalformed, err.Error(), now))
		}
		return nil
	}
	if err := p.prefetch(env.Items); err != nil {
		return err
	}
	a := answer{subject: env.Reply, reply: Reply{ID: env.ID, Results: make([]Result, 0, len(env.Items))}}
	fresh := !p.state.Decided(domain.CommandRef{Seq: m.Seq, Item: len(env.Items) - 1})
	// An atomic envelope some of whose items are in the journal was cut
	// short by a crash mid-append (journals written before atomic batches
	// took one record each); it had passed as a whole, so its remaining
	// items are decided one by one, in order, from the same state, and
	// pass the same way.
	if env.Atomic && !p.state.Decided(domain.CommandRef{Seq: m.Seq, Item: 0}) {
		b.events = p.decideAtomic(m.Seq, env, &a, now, b.events)
		for i, r := range a.reply.Results {
			if i < len(env.Items) && env.Items[i].Transfer != nil {
				b.transfers = append(b.transfers, transferOutcome{r.Outcome, r.Code})
			}
		}
		if len(b.events) > before {
			b.wholes = append(b.wholes, [2]int{before, len(b.events)})
		} else {
			b.events = append(b.events, p.state.Skip(m.Seq, len(env.Items), domain.SkipBatchAborted, abortDetail(a.reply.Results), now))
		}
		b.answers = append(b.answers, a)
		return nil
	}
	for i, it := range env.Items {
		ref := domain.CommandRef{Seq: m.Seq, Item: i}
		if p.state.Decided(ref) {
			// Redelivered after a crash between the journal append and
			// the ack: its events are in the journal already.
			a.subject = ""
			continue
		}
		d := p.state.Decide(CommandAt(it, ref), now)
		if d.Event != nil {
			b.events = append(b.events, d.Event)
		}
		r := ResultOf(d)
		a.reply.Results = append(a.reply.Results, r)
		if it.Transfer != nil {
			b.transfers = append(b.transfers, transferOutcome{r.Outcome, r.Code})
		}
	}
	if fresh && len(b.events) == before {
		b.events = append(b.events, p.state.Skip(m.Seq, len(env.Items), domain.SkipUnchanged, "", now))
	}
	b.answers = append(b.answers, a)
	return nil
}

// abortDetail names the item that made an atomic batch fail.
func abortDetail(rs []Result) string {
	for i, r := range rs {
		if r.Code != domain.CodeBatchAborted {
			return fmt.Sprintf("item %d: %s: %s", i, r.Code, r.Detail)
		}
	}
	return ""
}

// encode chains the batch's events after the last hash and packs them
// into records. An atomic batch's events go into one record of their own,
// whatever MaxRecordEvents and MaxRecordBytes say, so that the journal
// never shows part of one. domain.DecideAtomic refuses a batch whose
// record could outgrow MaxAtomicRecordBytes; one that did all the same
// would be split as any run of events is (a crash between its records
// would then leave a prefix visible until the command is redelivered and
// completed), rather than be refused by the server for ever.
func (p *Processor) encode(b *batch) ([]domain.Record, domain.Hash, error) {
	if len(b.wholes) == 0 {
		return EncodeRecords(b.events, p.lastHash, p.cfg.MaxRecordEvents, p.cfg.MaxRecordBytes)
	}
	var records []domain.Record
	last, at := p.lastHash, 0
	add := func(events []*domain.Event, maxEvents, maxBytes int) error {
		if len(events) == 0 {
			return nil
		}
		rs, h, err := EncodeRecords(events, last, maxEvents, maxBytes)
		records, last = append(records, rs...), h
		return err
	}
	for _, w := range b.wholes {
		if err := add(b.events[at:w[0]], p.cfg.MaxRecordEvents, p.cfg.MaxRecordBytes); err != nil {
			return nil, last, err
		}
		if err := add(b.events[w[0]:w[1]], w[1]-w[0], p.cfg.MaxAtomicRecordBytes); err != nil {
			return nil, last, err
		}
		at = w[1]
	}
	if err := add(b.events[at:], p.cfg.MaxRecordEvents, p.cfg.MaxRecordBytes); err != nil {
		return nil, last, err
	}
	return records, last, nil
}

// decideAtomic decides an all-or-nothing envelope.
func (p *Processor) decideAtomic(seq uint64, env *Envelope, a *answer, now time.Time, events []*domain.Event) []*domain.Event {
	cmds := make([]domain.Command, len(env.Items))
	for i, it := range env.Items {
		cmds[i] = CommandAt(it, domain.CommandRef{Seq: seq, Item: i})
	}
	for _, d := range p.state.DecideAtomic(cmds, now) {
		if d.Event != nil {
			events = append(events, d.Event)
		}
		a.reply.Results = append(a.reply.Results, ResultOf(d))
	}
	return events
}

// recordLineRoom is the room reserved per event when a record is started:
// a posted transfer's line is about 450 bytes without metadata.
const recordLineRoom = 512

// EncodeRecords chains events after prev and packs them into journal
// records: runs of consecutive events of one type, each record bounded by
// maxEvents and maxBytes. It returns the records and the last hash.
func EncodeRecords(events []*domain.Event, prev domain.Hash, maxEvents, maxBytes int) ([]domain.Record, domain.Hash, error) {
	var records []domain.Record
	var cur *domain.Record
	var n int
	for i, ev := range events {
		if cur == nil || cur.Type != ev.Type || n >= maxEvents || len(cur.Data) >= maxBytes {
			// Room for the run of events of this type that may follow in
			// this record, at a typical line's size: growing it line by
			// line cost as much as the lines.
			run := 1
			for run < maxEvents && i+run < len(events) && events[i+run].Type == ev.Type {
				run++
			}
			room := run * recordLineRoom
			records = append(records, domain.Record{Type: ev.Type, FirstSeq: ev.Seq, Data: make([]byte, 0, min(room, maxBytes))})
			cur, n = &records[len(records)-1], 0
		}
		var err error
		cur.Data, prev, err = domain.AppendEvent(cur.Data, ev, prev)
		if err != nil {
			return nil, prev, err
		}
		cur.LastSeq = ev.Seq
		n++
	}
	return records, prev, nil
}

// linesOf maps each event to its line in the records EncodeRecords made
// of them (in order, one '\n'-terminated line per event).
func linesOf(events []*domain.Event, records []domain.Record) map[*domain.Event][]byte {
	m := make(map[*domain.Event][]byte, len(events))
	i := 0
	for _, r := range records {
		for data := r.Data; len(data) > 0 && i < len(events); i++ {
			n := bytes.IndexByte(data, '\n')
			if n < 0 {
				return m
			}
			m[events[i]] = data[:n:n]
			data = data[n+1:]
		}
	}
	return m
}
