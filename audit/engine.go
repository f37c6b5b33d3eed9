package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// engine runs the checks that need the journal's order, one line at a
// time, after the pipeline's workers have verified and decoded it.
type engine struct {
	ctx      context.Context
	opts     Options
	rep      *Report
	books    *Books
	rm       *readModel
	failures map[Check]int
	started  bool
	partial  bool
	next     uint64 // the sequence expected next
	lastCmd  uint64 // the command message the last event answers
	lastHash domain.Hash
	cps      *checkpoints           // nil without any
	events   []*domain.Event        // the current chunk's, for OnChunk
	addrs    [prefetchAddrs]uintptr // see prefetch
	until    instant                // opts.UntilTime, for stopBefore
	lazy     lazyEvent              // the compact posting's event, when a finding needs it
}

func newEngine(ctx context.Context, opts Options, source string) *engine {
	e := &engine{ctx: ctx, opts: opts, failures: map[Check]int{}, next: 1,
		rep: &Report{Source: source, Findings: []Finding{}}}
	e.books = newBooks(e.find, opts.SizeHint)
	e.until = instantOf(opts.UntilTime)
	return e
}

// find records a finding. Its account and asset may be views of a
// journal line (see checkLine): the report keeps copies.
func (e *engine) find(f Finding) {
	e.failures[f.Check]++
	if len(e.rep.Findings) < e.opts.MaxFindings {
		f.Account, f.Asset = strings.Clone(f.Account), strings.Clone(f.Asset)
		e.rep.Findings = append(e.rep.Findings, f)
	}
}

func (e *engine) failed() int {
	n := 0
	for _, v := range e.failures {
		n += v
	}
	return n
}

func (e *engine) consume(b *batch) error {
	if b.Err != nil {
		e.find(Finding{Check: CheckSchema, Seq: e.next, Detail: fmt.Sprintf("journal record at position %d: %v", b.Position, b.Err)})
	}
	if e.opts.OnChunk != nil {
		e.events = make([]*domain.Event, 0, len(b.Lines)) // OnChunk may keep it
	}
	var firstSeq, lastSeq uint64
	plain := e.plainBatch(b)
	// last is the line whose stored hash is the last line's while
	// engine.posting takes the lines, -1 once e.lastHash holds it: the
	// hashes were written on the worker's core, and a posting does not
	// read its own (a miss every other line) unless a finding needs it.
	last := -1
	for i, line := range b.Lines {
		if i%prefetchGroup == 0 {
			e.prefetch(b.items, i)
		}
		r := &b.items[i]
		e.books.foundAt = uint(i)
		if plain && e.plainPosting(r) {
			if i == 0 {
				firstSeq = r.seq
			}
			lastSeq = r.seq
			prev := &e.lastHash
			if last >= 0 {
				prev = &b.hashes[last]
			}
			e.posting(line, r, prev, &b.hashes[i])
			last = i
			continue
		}
		if last >= 0 {
			e.lastHash, last = b.hashes[last], -1
		}
		seq := e.next
		if r.event {
			seq = r.seq
		}
		if e.stopBefore(r) {
			return errStop
		}
		if i == 0 {
			firstSeq = seq
		}
		lastSeq = seq
		if err := e.line(line, seq, r, &b.hashes[i], b); err != nil {
			return err
		}
	}
	if last >= 0 {
		e.lastHash = b.hashes[last]
	}
	if b.FirstSeq != 0 && len(b.Lines) > 0 && (b.FirstSeq != firstSeq || b.LastSeq != lastSeq || b.LastSeq-b.FirstSeq+1 != uint64(len(b.Lines))) {
		e.find(Finding{Check: CheckSequence, Seq: firstSeq, Detail: fmt.Sprintf(
			"journal record at position %d has headers for sequences %d-%d but holds %d events, %d-%d",
			b.Position, b.FirstSeq, b.LastSeq, len(b.Lines), firstSeq, lastSeq)})
	}
	if e.opts.Progress != nil {
		e.opts.Progress(len(b.Lines))
	}
	if e.opts.OnChunk != nil {
		if e.failed() > 0 {
			f := e.rep.Findings[0]
			return fmt.Errorf("%w: %s", ErrFailed, f)
		}
		return e.opts.OnChunk(b.Chunk, e.events)
	}
	return nil
}

// stopBefore reports whether the run ends before line r.
func (e *engine) stopBefore(r *lineResult) bool {
	if !r.event {
		return false
	}
	if e.opts.UntilSeq != 0 && r.seq > e.opts.UntilSeq {
		return true
	}
	if !e.opts.UntilTime.IsZero() {
		t := e.books.now
		if r.at().after(t) {
			t = r.at()
		}
		return t.after(e.until)
	}
	return false
}

func (e *engine) start(seq uint64, r *lineResult) {
	e.started = true
	e.rep.FirstSeq = seq
	e.rep.FirstPrevHash = domain.Hash{}.String()
	if seq == 1 || !r.event {
		return
	}
	if e.opts.AllowPartial {
		e.partial = true
		e.rep.FirstPrevHash = strings.Clone(e.event(r).PrevHash)
		e.next = seq
		return
	}
	// Not allowed to start late: the sequence check reports the gap.
}

func (e *engine) sequence(seq uint64, r *lineResult) {
	switch {
	case !r.event || seq == e.next:
		e.next++
	case seq > e.next:
		missing := fmt.Sprintf("sequence %d is missing", e.next)
		if seq > e.next+1 {
			missing = fmt.Sprintf("sequences %d to %d are missing", e.next, seq-1)
		}
		e.find(Finding{Check: CheckSequence, Seq: e.next, Detail: fmt.Sprintf("%s: event %d follows event %d", missing, seq, e.next-1)})
		e.next = seq + 1
	default:
		e.find(Finding{Check: CheckSequence, Seq: seq, Detail: fmt.Sprintf(
			"event %d is out of order: it follows event %d", seq, e.next-1)})
	}
}

// command checks that the journal answers the command messages in order
// and leaves none out: the processor decides them in stream order, and
// every message it decides leaves at least one event (CommandSkipped when
// nothing else). A command missing here was acknowledged (and so removed
// from the commands stream) without being decided: an accepted write lost.
func (e *engine) command(seq, c uint64) {
	switch {
	case e.lastCmd == 0 && e.partial:
		// An export of a range: its first event's command is the anchor.
	case c > e.lastCmd+1:
		missing := fmt.Sprintf("command %d is", e.lastCmd+1)
		if c > e.lastCmd+2 {
			missing = fmt.Sprintf("commands %d to %d are", e.lastCmd+1, c-1)
		}
		e.find(Finding{Check: CheckCommands, Seq: seq, Detail: fmt.Sprintf(
			"%s answered by no event: event %d answers command %d, the event before it command %d; "+
				"an accepted command was acknowledged without being decided", missing, seq, c, e.lastCmd)})
	case c < e.lastCmd:
		e.find(Finding{Check: CheckCommands, Seq: seq, Detail: fmt.Sprintf(
			"event %d answers command %d, after an event that answers command %d: commands are decided in order", seq, c, e.lastCmd)})
		return
	}
	e.lastCmd = c
}

// commandsStream checks the commands stream against the journal's last
// decided command. before is the stream as it stood before the journal
// was read: every command before its first was acknowledged by then, so
// it is in the journal read after. after is the stream once the journal
// was read: it must not end before the journal's last decided command.
func (e *engine) commandsStream(before, after *CommandsInfo) {
	e.rep.Commands = after
	switch {
	case after.LastSeq < e.lastCmd:
		e.find(Finding{Check: CheckCommands, Seq: e.rep.LastSeq, Detail: fmt.Sprintf(
			"the commands stream %s ends at command %d, before the journal's last decided command %d: it was recreated, and new commands would be taken for decided ones",
			after.Stream, after.LastSeq, e.lastCmd)})
	case before.FirstSeq > e.lastCmd+1:
		e.find(Finding{Check: CheckCommands, Seq: e.rep.LastSeq, Detail: fmt.Sprintf(
			"commands %d to %d were accepted into %s but are neither in the journal nor in the stream: deleted, expired or acknowledged without being decided",
			e.lastCmd+1, before.FirstSeq-1, before.Stream)})
	}
}

func (e *engine) chain(seq uint64, r *lineResult) {
	switch r.link {
	case linkElsewhere:
		e.find(Finding{Check: CheckHashChain, Seq: seq, Detail: fmt.Sprintf(
			"event %d is intact but its prev_hash %.16s... is not the hash of the line before it: an event was removed, inserted or moved here", seq, e.event(r).PrevHash)})
	case linkAltered:
		e.find(Finding{Check: CheckHashChain, Seq: seq, Detail: fmt.Sprintf(
			"the stored hash of event %d does not match its bytes: the event or its hash was altered", seq)})
	case linkUnreadable:
		e.find(Finding{Check: CheckHashChain, Seq: seq, Detail: "the line has no well-formed hash suffix"})
	}
}

func (e *engine) finish(elapsed time.Duration) {
	rep := e.rep
	if e.started {
		rep.LastHash = e.lastHash.String()
	}
	if !e.partial {
		e.books.sumsToZero(rep.LastSeq)
	}
	if e.rm != nil && !e.partial {
		e.rm.finish(rep.LastSeq, e.find)
		info := e.rm.info
		rep.ReadModel = &info
	}
	if h := e.opts.ExpectHead; h != nil && rep.LastSeq != h.Seq {
		f := Finding{Check: CheckHead, Seq: h.Seq + 1, Detail: fmt.Sprintf(
			"the journal goes on past the expected head %d to %d: events after the head were not there when it was recorded", h.Seq, rep.LastSeq)}
		if rep.LastSeq < h.Seq {
			f = Finding{Check: CheckHead, Seq: rep.LastSeq + 1, Detail: fmt.Sprintf(
				"the journal ends at %d, before the expected head %d: it was truncated", rep.LastSeq, h.Seq)}
		}
		e.find(f)
	}
	cpNote := ""
	if e.cps != nil {
		cpNote = e.cps.finish(rep.LastSeq, e.find)
	}
	rep.LastCommand = e.lastCmd
	rep.Assets = len(e.books.assets)
	rep.Accounts = len(e.books.accounts)
	for _, c := range Checks {
		res := CheckResult{Check: c, Status: StatusOK, Failures: e.failures[c]}
		switch {
		case res.Failures > 0:
			res.Status = StatusFailed
		case e.partial && isStateCheck(c):
			res.Status = StatusSkipped
			res.Note = fmt.Sprintf("the export starts at sequence %d: balances need events 1 to %d, export from sequence 1", rep.FirstSeq, rep.FirstSeq-1)
		case c == CheckHead && e.opts.ExpectHead == nil:
			res.Status, res.Note = StatusSkipped, "no expected head given (--expect-head SEQ:HASH)"
		case c == CheckCheckpoint && e.cps == nil:
			res.Status, res.Note = StatusSkipped, "no checkpoint given (--checkpoint SEQ:HASH[:SIGNATURE])"
		case c == CheckCheckpoint:
			res.Note = cpNote
		case c == CheckReadModel && e.opts.ReadModel == nil:
			res.Status, res.Note = StatusSkipped, "no read model given"
		}
		rep.Checks = append(rep.Checks, res)
	}
	rep.Partial = e.partial
	rep.OK = e.failed() == 0
	rep.ElapsedSecs = elapsed.Seconds()
	if s := elapsed.Seconds(); s > 0 {
		rep.EventsPerSec = float64(rep.Events) / s
	}
}

func isStateCheck(c Check) bool {
	for _, s := range stateChecks {
		if s == c {
			return true
		}
	}
	return false
}
