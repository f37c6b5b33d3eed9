package audit

import (
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// The in-order checks of one line (engine.consume calls line for each):
// on a compact posting's record alone, or on a line's event.

// line runs the in-order checks of one line at sequence seq, whose
// stored hash is h.
func (e *engine) line(line []byte, seq uint64, r *lineResult, h *domain.Hash, b *batch) error {
	first := !e.started
	if r.x == nil { // a compact posting: its event only for a finding
		e.lazy.reset(line, &e.lastHash, h)
	}
	if first {
		e.start(seq, r)
	}
	e.sequence(seq, r)
	if !(first && e.partial && r.link == linkElsewhere) {
		e.chain(seq, r)
	}
	e.schema(line, seq, r, b)
	if r.event {
		if e.opts.OnChunk != nil {
			e.events = append(e.events, r.x.ev)
		}
		if r.nums.ok { // a TransferPosted whose numbers the worker read
			e.rep.Postings++
		} else {
			e.count(r.x.ev)
		}
	}
	if r.schemaOK() {
		e.command(seq, r.cmd)
		if !e.partial {
			if err := e.apply(r); err != nil {
				return err
			}
		}
	}
	if x := e.opts.ExpectHead; x != nil && seq == x.Seq && *h != x.Hash {
		e.find(Finding{Check: CheckHead, Seq: seq, Detail: fmt.Sprintf(
			"the hash of event %d is %s, the expected head's is %s: the journal was rewritten", seq, *h, x.Hash)})
	}
	if e.cps != nil {
		if first && e.partial {
			e.cps.skipTo(seq, e.find)
		}
		e.cps.event(seq, *h, e.find)
	}
	e.rep.Events++
	e.rep.LastSeq = seq
	e.lastHash = *h
	return nil
}

// plainBatch reports whether b's clean compact postings may take
// engine.posting rather than engine.line: the run stops at no sequence or
// time, compares no head, checkpoint or chunk's events, and b's journal
// record, if any, holds TransferPosted events. What line checks beyond
// that, plainPosting checks per line.
func (e *engine) plainBatch(b *batch) bool {
	o := &e.opts
	return o.OnChunk == nil && o.ExpectHead == nil && e.cps == nil && o.UntilSeq == 0 && o.UntilTime.IsZero() &&
		(b.Type == "" || b.Type == domain.EventTransferPosted)
}

// plainPosting reports whether line r of a plainBatch is a compact
// posting on which line's checks other than the books' are trivially
// true: the run has started, in full, and r has the sequence expected
// next and answers the command of the event before it or the next one.
// A compact posting is chained to the line before it and passed its
// schema (checkLine).
func (e *engine) plainPosting(r *lineResult) bool {
	return r.x == nil && r.seq == e.next && r.cmd-e.lastCmd <= 1 && e.started && !e.partial
}

// posting is line for a plainPosting r, whose stored hash is h and the
// line before's prev: what line does of such a line, and nothing else;
// engine.consume sets e.lastHash when the batch's postings end.
func (e *engine) posting(line []byte, r *lineResult, prev, h *domain.Hash) {
	e.lazy.reset(line, prev, h)
	e.next++
	e.rep.Postings++
	e.lastCmd = r.cmd
	p := posting{seq: r.seq, n: &r.nums, lazy: &e.lazy}
	b := e.books // applyPosting, inline
	b.seq = r.seq
	b.advanceTo(r.at())
	b.post(&p)
	e.rep.Events++
	e.rep.LastSeq = r.seq
}

// event is line r's event, built from the line for a compact posting
// (the line's lazyEvent, set by line); nil when the line is none.
func (e *engine) event(r *lineResult) *domain.Event {
	switch {
	case r.x != nil:
		return r.x.ev
	case r.event:
		return e.lazy.event()
	}
	return nil
}

// schema reports what the worker found wrong with a line's decoding,
// schema or canonical form, and an event of another type than its
// journal record's.
func (e *engine) schema(line []byte, seq uint64, r *lineResult, b *batch) {
	x := r.x
	if x == nil { // a compact posting: nothing wrong, a TransferPosted
		if b.Type != "" && b.Type != domain.EventTransferPosted {
			e.find(Finding{Check: CheckSchema, Seq: seq, Detail: fmt.Sprintf(
				"a %s event in a journal record of %s events (position %d)", domain.EventTransferPosted, b.Type, b.Position)})
		}
		return
	}
	switch {
	case x.decodeErr != nil:
		e.find(Finding{Check: CheckSchema, Seq: seq, Detail: fmt.Sprintf("line does not decode: %v (%.80q)", x.decodeErr, line)})
	case x.schemaErr != nil:
		e.find(Finding{Check: CheckSchema, Seq: seq, Detail: fmt.Sprintf("%s: %v", x.ev.Type, x.schemaErr)})
	case b.Type != "" && x.ev.Type != b.Type:
		e.find(Finding{Check: CheckSchema, Seq: seq, Detail: fmt.Sprintf(
			"a %s event in a journal record of %s events (position %d)", x.ev.Type, b.Type, b.Position)})
	}
	if x.canonErr != nil {
		e.find(Finding{Check: CheckCanonical, Seq: seq, Detail: fmt.Sprintf("event %d: %v", seq, x.canonErr)})
	}
}

// apply applies an event that passed checkSchema to the books, and
// compares the read model where there is one.
func (e *engine) apply(r *lineResult) error {
	if r.x == nil {
		p := posting{seq: r.seq, n: &r.nums, lazy: &e.lazy}
		e.books.applyPosting(&p, r.at())
		return nil
	}
	ev := r.x.ev
	posted := e.books.postings
	e.books.apply(ev, &r.nums)
	if e.rm != nil {
		return e.rm.onEvent(e.ctx, ev, e.books.postings > posted, e.books, e.find)
	}
	return nil
}

// count counts an event among the report's postings or rejections.
func (e *engine) count(ev *domain.Event) {
	switch ev.Type {
	case domain.EventTransferPosted, domain.EventTransferConverted, domain.EventHoldPosted:
		e.rep.Postings++
	case domain.EventTransferRejected, domain.EventTransactionRejected:
		e.rep.Rejections++
	case domain.EventTransactionPosted:
		if ev.Transaction != nil {
			e.rep.Postings += uint64(len(ev.Transaction.Legs)) // each leg is a posting
		}
	}
}
