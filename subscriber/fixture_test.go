package subscriber_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/subscriber"
)

// waitTimeout bounds every wait in these tests. It is longer than the
// consumer's ack wait (30 s): an acknowledgement lost on a loaded machine
// (they are sent without confirmation) is recovered by the redelivery
// after the ack wait, which these tests must allow for. In a CI run with a
// cold build cache, TestEventSchemas once received 28 of 32 events within
// 10 s, with no resubscription logged: the pattern of a record waiting for
// its redelivery.
const waitTimeout = 45 * time.Second

// recordEventsMax packs at most this many events into one journal record
// here, so that small journals still have records of several events.
const recordEventsMax = 4

// journal is a real journal (journaltest.Journal) packing few events per
// record, with the subscribers the tests read it with.
type journal struct {
	*journaltest.Journal
}

func newJournal(t testing.TB) *journal {
	t.Helper()
	return &journal{journaltest.New(t, journaltest.WithRecordEventsMax(recordEventsMax))}
}

// ledger is the fixture ledger's name.
func (j *journal) ledger() string { return j.Names.Ledger }

// seqs returns the sequences of the journal's events that pass keep.
func (j *journal) seqs(keep func(*domain.Event) bool) []uint64 {
	var out []uint64
	for _, ev := range j.Events {
		if keep == nil || keep(ev) {
			out = append(out, ev.Seq)
		}
	}
	return out
}

func (j *journal) newSubscriber(cfg subscriber.Config) *subscriber.Subscriber {
	j.T.Helper()
	cfg.Conn, cfg.Ledger = j.NC, j.ledger()
	s, err := subscriber.New(cfg)
	if err != nil {
		j.T.Fatal(err)
	}
	return s
}

// received is what a handler saw, safe to read while Run goes on.
type received struct {
	mu     sync.Mutex
	events []subscriber.Event // Line copied
}

func (r *received) add(ev subscriber.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev.Line = append([]byte(nil), ev.Line...)
	r.events = append(r.events, ev)
}

func (r *received) seqs() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]uint64, len(r.events))
	for i, ev := range r.events {
		out[i] = ev.Seq
	}
	return out
}

func (r *received) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// run runs s in the background, recording every event, until the test
// ends or stop is called; stop returns Run's error.
func run(t *testing.T, s *subscriber.Subscriber) (*received, func() error) {
	t.Helper()
	r := &received{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(_ context.Context, ev subscriber.Event) error {
			r.add(ev)
			return nil
		})
	}()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(waitTimeout):
				err = fmt.Errorf("Run did not return within %v of its cancellation", waitTimeout)
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return r, stop
}

// waitFor waits until r holds n events.
func waitFor(t *testing.T, r *received, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for r.len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("received %d events, want %d: %v", r.len(), n, r.seqs())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settleFor checks that nothing more than n events arrives for a moment.
func settleFor(t *testing.T, r *received, n int) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	if got := r.len(); got != n {
		t.Fatalf("received %d events, want exactly %d: %v", got, n, r.seqs())
	}
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}
