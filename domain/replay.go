package domain

import (
	"fmt"
	"unsafe"
)

// Replaying the journal fast. A rebuild reads millions of lines; doing it
// with VerifyLine, DecodeEvent and Apply costs reflection and several
// allocations per line. Line and Replayer do the same checks in two steps
// that can run on two goroutines, one line after the other: Line.Prepare
// checks a line's place in the hash chain and reads it in place (the SHA-256
// of the line and the parsing, the heavier half), and Replayer.Apply
// decodes it into a reused event and applies it. A line in the canonical
// encoding costs no reflection and no allocation; any other line takes the
// encoding/json path, with the same outcome as before.
//
// A reader that wants the events themselves, an auditor, calls Line.View
// after Prepare instead of applying the line: VerifyLine and DecodeEvent in
// one pass over the line.

// Line is one stored journal line. The zero Line is ready for Prepare, and
// a Line may be reused for another line once applied (or viewed).
type Line struct {
	raw       []byte
	canonical bool
	view      lineView
	// memo is what the posting reader kept of the lines before, to read
	// the fields that repeat them by comparing bytes (decode_memo.go),
	// and the last time's Unix seconds and date's days: a reader of many
	// postings that keeps one Line has nearly every posting on the
	// second, or at least the date, of the one before.
	memo postingMemo
}

// Prepare checks raw (a stored line without its '\n') against the previous
// event's hash, exactly as VerifyLine does, keeps raw (which must not
// change until the line is applied, or while its View is in use) and
// returns the line's hash.
func (l *Line) Prepare(raw []byte, prev Hash) (Hash, error) {
	s := Seal(raw)
	sum := lineHash(prev, &s)
	return l.prepare(&s, &prev, &sum, true)
}

// PrepareHashed is Prepare for a caller that has hashed the line already:
// sum is the SHA-256 of the line's hash input after prev (HashInput),
// which PrepareHashed compares with the stored hash instead of hashing the
// line again. Everything else is Prepare's, with the same outcome for the
// right sum; a wrong sum is the line's hash mismatch (ErrHashMismatch).
func (l *Line) PrepareHashed(raw []byte, prev Hash, sum Hash) (Hash, error) {
	s := Seal(raw)
	return l.prepare(&s, &prev, &sum, true)
}

// PrepareSealed is PrepareHashed for a line already sealed: its suffix is
// not looked for again, and once s.Stored has read the stored hash, sum
// is compared with it, not with its hex. The outcome is PrepareHashed's.
func (l *Line) PrepareSealed(s *Sealed, prev Hash, sum Hash) (Hash, error) {
	return l.prepare(s, &prev, &sum, true)
}

// prepare is PrepareSealed, with the posting reader tried first if
// posting.
func (l *Line) prepare(s *Sealed, prev, sum *Hash, posting bool) (Hash, error) {
	// l.raw is written once on the posting reader's path (a pointer's
	// store has the write barrier's test).
	l.canonical = false
	raw := s.line
	if !s.matches(sum) { // check's failure: its stored hash and error
		l.raw = nil
		return s.check(sum)
	}
	if posting && scanPosting(raw, &l.view, prev, &l.memo) {
		l.raw, l.canonical = raw, true
		return *sum, nil
	}
	l.raw = nil
	stored := *sum // the stored hash, spelt as sum (check)
	if scanLine(raw, &l.view, prev) {
		if !l.view.chained {
			return stored, ErrChainBroken
		}
		l.raw, l.canonical = raw, true
		return stored, nil
	}
	if err := prevHashJSON(raw, *prev); err != nil {
		return stored, err
	}
	l.raw = raw
	return stored, nil
}

// PostingNumbers are a posting's amount and its entries' balances after,
// each at the decimal places it is written with, as ParseAmount and
// ParseBalance read them at those places.
type PostingNumbers struct {
	Amount, Debit, Credit Amount
	Places                [3]int // of Amount, Debit and Credit
}

// Posting reports whether Prepare read the line with the posting reader,
// the one pass that nearly every TransferPosted line takes, and returns
// the numbers it parsed. True means that the line is a TransferPosted in
// the canonical encoding (Canonical accepts its View), of SchemaVersion,
// with a sequence and a time that are not zero, one payload, and that
// ValidatePayload accepts it; those need not be checked again. False
// says nothing: the line is checked as any other.
func (l *Line) Posting() (n PostingNumbers, ok bool) {
	num := &l.view.numbers
	if !l.canonical || !num.ok {
		return n, false
	}
	return PostingNumbers{
		Amount: AmountFromInt64(num.values[0]), Debit: AmountFromInt64(num.values[1]), Credit: AmountFromInt64(num.values[2]),
		Places: [3]int{int(num.places[0]), int(num.places[1]), int(num.places[2])},
	}, true
}

// EventBuffer is room for one event and its payload, for Line.View to
// decode into without allocating. The zero EventBuffer is ready, and one
// is reused by viewing another line into it.
type EventBuffer struct {
	ev    Event
	parts eventParts
}

// View returns the event of a line that Prepare accepted, decoded into
// buf, as DecodeEvent returns it for the same bytes: Prepare and View are
// VerifyLine and DecodeEvent in one pass over a canonical line, without
// allocating. The event's strings are views of the line's bytes, not
// copies, so the event is valid only while those bytes do not change
// (Prepare's contract holds until then) and until buf holds another
// event; whoever keeps one of its strings longer must copy it
// (strings.Clone). A line not in the canonical encoding is decoded by
// encoding/json into a new event, which shares nothing. A line that was
// not prepared, or whose preparation failed, returns an error wrapping
// ErrMalformedEvent: DecodeEvent reads such a line on its own.
func (l *Line) View(buf *EventBuffer) (*Event, error) {
	switch {
	case l.raw == nil:
		return nil, fmt.Errorf("%w: the line was not prepared", ErrMalformedEvent)
	case !l.canonical:
		return decodeEventJSON(l.raw)
	}
	s := unsafe.String(unsafe.SliceData(l.raw), len(l.raw))
	l.view.fill(&buf.ev, s, &buf.parts)
	buf.ev.Time = l.view.clock.time()
	return &buf.ev, nil
}

// Replayer applies prepared lines to a State, in journal order. It is not
// safe for concurrent use, but it may run on another goroutine than the
// one preparing the lines.
type Replayer struct {
	st    *State
	ev    Event
	parts eventParts
}

// NewReplayer returns a Replayer that applies lines to st.
func NewReplayer(st *State) *Replayer { return &Replayer{st: st} }

// Apply decodes a prepared line and applies it to the state: what
// DecodeEvent and State.Apply would do. (The event it applies has no Time:
// Prepare checked it, and State.Apply does not read it.) Errors wrap
// ErrMalformedEvent or the errors of State.Apply.
func (r *Replayer) Apply(l *Line) error {
	if l.raw == nil {
		return ErrMalformedEvent // not prepared, or its preparation failed
	}
	if !l.canonical {
		ev, err := decodeEventJSON(l.raw)
		if err != nil {
			return err
		}
		return r.st.Apply(ev)
	}
	// The event's strings are views of the line's bytes, not copies: the
	// event lives only for this call, the bytes do not change while it runs
	// (Prepare's contract), and State.Apply copies whatever it keeps
	// (strings.Clone), so nothing outlives the call that aliases the line.
	s := unsafe.String(unsafe.SliceData(l.raw), len(l.raw))
	v := &l.view
	if v.payload == 't' && v.typ.of(s) == string(EventTransferPosted) {
		// Nearly every event: only what applying it reads, no Event.
		t := v.transferOf(s)
		return r.st.applyPostedEvent(v.seq, v.command, &t)
	}
	v.fill(&r.ev, s, &r.parts)
	return r.st.Apply(&r.ev)
}
