package subscriber

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/journalio"
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

// ErrNotJournal means a message of the journal stream lacks the record
// headers, so it is not a ledger record the subscriber can read.
var ErrNotJournal = journalio.ErrNotRecord

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
	loc, err := journalio.RecordAt(ctx, st, last)
	return loc.LastSeq, err
}
