package journaltest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
)

// readWait bounds ReadEvents.
const readWait = 10 * time.Second

// readAttempts bounds ReadEvents' attempts. A read that stalls (its
// ordered consumer made on a server that a fault test just stopped or
// restarted, or a machine too loaded to deliver in readWait) is started
// again from the journal's first record; every attempt checks the whole
// journal.
const readAttempts = 3

// ReadEvents reads the whole journal of the ledger names on js, as it
// stands, and returns its events in order. It fails the test unless every
// record splits into lines, the sequences run from 1 without a gap and
// the hash chain is unbroken: what a reader of the journal may rely on.
func ReadEvents(t testing.TB, js jetstream.JetStream, names journalio.Names) []*domain.Event {
	t.Helper()
	var err error
	for attempt := 1; attempt <= readAttempts; attempt++ {
		var events []*domain.Event
		if events, err = readEventsOnce(t, js, names); err == nil {
			return events
		}
		t.Logf("read journal (attempt %d of %d): %v", attempt, readAttempts, err)
	}
	t.Fatalf("read journal: %v", err)
	return nil
}

// readEventsOnce is one attempt of ReadEvents: a broken journal fails the
// test, a read that does not finish in readWait is returned.
func readEventsOnce(t testing.TB, js jetstream.JetStream, names journalio.Names) ([]*domain.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	var (
		events []*domain.Event
		prev   domain.Hash
	)
	_, err := journalio.ReadJournal(ctx, js, names, 1, func(r domain.Record) error {
		lines, err := domain.SplitRecord(r.Data)
		if err != nil {
			t.Fatalf("journal record %d: %v", r.Position, err)
		}
		for _, line := range lines {
			h, err := domain.VerifyLine(line, prev)
			if err != nil {
				t.Fatalf("journal record %d after sequence %d: %v", r.Position, uint64(len(events)), err)
			}
			ev, err := domain.DecodeEvent(line)
			if err != nil {
				t.Fatalf("journal record %d after sequence %d: %v", r.Position, uint64(len(events)), err)
			}
			if ev.Seq != uint64(len(events))+1 {
				t.Fatalf("journal record %d: sequence %d follows %d", r.Position, ev.Seq, len(events))
			}
			events = append(events, ev)
			prev = h
		}
		return nil
	})
	return events, err
}
