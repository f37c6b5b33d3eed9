package subscriber

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Start says where a new subscription begins. The zero Start is the
// beginning of the journal. A durable subscription that already exists
// ignores it and resumes where it stopped.
type Start struct {
	kind startKind
	seq  uint64
	at   time.Time
}

type startKind int

const (
	startBeginning startKind = iota
	startNew
	startSeq
	startTime
)

// FromBeginning starts at the first event of the journal.
func FromBeginning() Start { return Start{kind: startBeginning} }

// NewOnly starts after the last event stored when the subscription is
// created: only events appended from then on.
func NewOnly() Start { return Start{kind: startNew} }

// FromSequence starts at the event with ledger sequence seq (0 and 1 are
// the beginning). A sequence past the journal's end waits for it.
func FromSequence(seq uint64) Start {
	if seq <= 1 {
		return FromBeginning()
	}
	return Start{kind: startSeq, seq: seq}
}

// FromTime starts at the first event whose time is at or after t, and
// continues with every event after it in ledger order.
func FromTime(t time.Time) Start { return Start{kind: startTime, at: t.UTC()} }

// String describes s for logs.
func (s Start) String() string {
	switch s.kind {
	case startNew:
		return "new events only"
	case startSeq:
		return "from sequence " + strconv.FormatUint(s.seq, 10)
	case startTime:
		return "from " + s.at.Format(time.RFC3339Nano)
	}
	return "from the beginning"
}

// searchStepsMax bounds the direct gets of a binary search: 64 halvings
// cover every possible stream sequence.
const searchStepsMax = 64

// ErrNotJournal means a message of the journal stream lacks the record
// headers, so it is not a ledger record the subscriber can read.
var ErrNotJournal = errors.New("not a ledger journal record")

// recordLastSeq reads the Ledger-Last-Seq header of the record at pos with
// a direct get.
func recordLastSeq(ctx context.Context, st jetstream.Stream, pos uint64) (uint64, error) {
	msg, err := st.GetMsg(ctx, pos)
	if err != nil {
		return 0, fmt.Errorf("journal record %d: %w", pos, err)
	}
	last, err := strconv.ParseUint(msg.Header.Get(HeaderLastSeq), 10, 64)
	if err != nil || last == 0 {
		return 0, fmt.Errorf("journal record %d: %s %q: %w", pos, HeaderLastSeq, msg.Header.Get(HeaderLastSeq), ErrNotJournal)
	}
	return last, nil
}

// positionOf returns the position of the record holding ledger sequence
// seq, or of the first record after it: a binary search over the records'
// Ledger-Last-Seq headers (sequences increase with positions; the journal
// is never purged, so positions are gapless). Past the journal's end it
// returns the next position to be written.
func positionOf(ctx context.Context, st jetstream.Stream, seq uint64) (uint64, error) {
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("journal stream info: %w", err)
	}
	first, last := max(info.State.FirstSeq, 1), info.State.LastSeq
	if last == 0 || info.State.Msgs == 0 {
		return last + 1, nil
	}
	l, err := recordLastSeq(ctx, st, last)
	if err != nil {
		return 0, err
	}
	if l < seq {
		return last + 1, nil
	}
	lo, hi := first, last // the answer is in [lo, hi]
	for step := 0; lo < hi; step++ {
		if step == searchStepsMax {
			return 0, fmt.Errorf("journal search for sequence %d did not converge", seq)
		}
		mid := lo + (hi-lo)/2
		l, err := recordLastSeq(ctx, st, mid)
		if err != nil {
			return 0, err
		}
		if l >= seq {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// LastSequence returns the ledger sequence of the last event in the
// journal of ledger, 0 when it is empty.
func LastSequence(ctx context.Context, js jetstream.JetStream, ledger string) (uint64, error) {
	st, err := js.Stream(ctx, JournalStream(ledger))
	if err != nil {
		return 0, fmt.Errorf("journal stream: %w", err)
	}
	last := st.CachedInfo().State.LastSeq
	if last == 0 {
		return 0, nil
	}
	return recordLastSeq(ctx, st, last)
}
