package subscriber_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/subscriber"
)

// TestContract checks that the subscriber's restatement of the journal's
// contract agrees with the server's.
func TestContract(t *testing.T) {
	n := journalio.NamesFor("x")
	if subscriber.JournalStream("x") != n.JournalStream {
		t.Errorf("JournalStream = %q, server says %q", subscriber.JournalStream("x"), n.JournalStream)
	}
	for _, typ := range domain.EventTypes {
		if got, want := subscriber.EventSubject("x", typ), n.EventSubject(string(typ)); got != want {
			t.Errorf("EventSubject(%s) = %q, server says %q", typ, got, want)
		}
	}
	for got, want := range map[string]string{
		subscriber.HeaderFirstSeq: journalio.HeaderFirstSeq, subscriber.HeaderLastSeq: journalio.HeaderLastSeq,
		subscriber.HeaderFormat: journalio.HeaderFormat, subscriber.RecordFormat: journalio.RecordFormat,
	} {
		if got != want {
			t.Errorf("subscriber says %q, server says %q", got, want)
		}
	}
}

// TestFromBeginning receives every event exactly once, in order, as
// stored: the lines verify as one unbroken hash chain.
func TestFromBeginning(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	j.SeedPayments()
	r, stop := run(t, j.newSubscriber(subscriber.Config{}))
	waitFor(t, r, 26)
	j.MorePayments("late", 3) // live events follow the history without a gap
	waitFor(t, r, 29)
	settleFor(t, r, 29)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got, want := r.seqs(), j.seqs(nil); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	var prev domain.Hash
	for i, ev := range r.events {
		h, err := domain.VerifyLine(ev.Line, prev)
		if err != nil {
			t.Fatalf("event %d: %v", ev.Seq, err)
		}
		prev = h
		want := j.Events[i]
		if ev.Type != want.Type || ev.Event.Seq != ev.Seq || ev.Event.Hash != want.Hash || ev.Position == 0 {
			t.Errorf("event %d: %s %+v, want %s hash %s", ev.Seq, ev.Type, ev.Event, want.Type, want.Hash)
		}
	}
}

// TestFromSequence starts inside a record of several events and receives
// exactly the events from that sequence on; a start past the end waits.
func TestFromSequence(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	j.SeedPayments()
	for _, from := range []uint64{21, 2, 12, 26} {
		t.Run(fmt.Sprint(from), func(t *testing.T) {
			r, stop := run(t, j.newSubscriber(subscriber.Config{Start: subscriber.FromSequence(from)}))
			waitFor(t, r, int(26-from+1))
			settleFor(t, r, int(26-from+1))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if got, want := r.seqs(), seqRange(from, 26); !slices.Equal(got, want) {
				t.Fatalf("from %d: got %v, want %v", from, got, want)
			}
		})
	}
	t.Run("past the end", func(t *testing.T) {
		r, stop := run(t, j.newSubscriber(subscriber.Config{Start: subscriber.FromSequence(28)}))
		time.Sleep(50 * time.Millisecond)
		j.MorePayments("p", 4) // 27-30 in one record
		waitFor(t, r, 3)
		settleFor(t, r, 3)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if got := r.seqs(); !slices.Equal(got, seqRange(28, 30)) {
			t.Fatalf("got %v, want 28-30", got)
		}
	})
}

// TestFromTime starts at the first event at or after a time.
func TestFromTime(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	j.SeedPayments()
	r, stop := run(t, j.newSubscriber(subscriber.Config{Start: subscriber.FromTime(journaltest.Minute(4))}))
	waitFor(t, r, 15)
	settleFor(t, r, 15)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := r.seqs(); !slices.Equal(got, seqRange(12, 26)) {
		t.Fatalf("got %v, want 12-26", got)
	}
}

// TestNewOnly receives only events appended after the subscription was
// created.
func TestNewOnly(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	j.SeedPayments()
	s := j.newSubscriber(subscriber.Config{Start: subscriber.NewOnly(), Durable: "new-only"})
	if err := s.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	j.MorePayments("n", 2)
	r, stop := run(t, s)
	waitFor(t, r, 2)
	settleFor(t, r, 2)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := r.seqs(); !slices.Equal(got, []uint64{27, 28}) {
		t.Fatalf("got %v, want [27 28]", got)
	}
}

// TestTypes filters by event type on the server.
func TestTypes(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	j.SeedPayments()
	types := []domain.EventType{domain.EventTransferRejected, domain.EventAccountOpened}
	r, stop := run(t, j.newSubscriber(subscriber.Config{Types: types, Start: subscriber.FromSequence(4)}))
	want := j.seqs(func(ev *domain.Event) bool { return ev.Seq >= 4 && slices.Contains(types, ev.Type) })
	waitFor(t, r, len(want))
	settleFor(t, r, len(want))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := r.seqs(); !slices.Equal(got, want) || len(want) != 5 {
		t.Fatalf("got %v, want %v (5 events)", got, want)
	}
}

// TestDurableResume kills a durable subscription in the middle of a record
// of several events, in two ways, and restarts it as a new Subscriber: the
// second run resumes with no gap, and its only duplicates are a prefix of
// sequences the first run already had, which a consumer detects by
// sequence. A clean stop and restart delivers no duplicate at all.
func TestDurableResume(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	j.SeedPayments()
	errCrash := errors.New("crash")
	for _, kill := range []string{"handler error", "cancelled mid-record"} {
		t.Run(kill, func(t *testing.T) {
			name := fmt.Sprintf("durable-%d", len(kill))
			// First run: dies while handling sequence 21 (record 20-23).
			first := &received{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := j.newSubscriber(subscriber.Config{Durable: name}).Run(ctx, func(ctx context.Context, ev subscriber.Event) error {
				if ev.Seq == 21 {
					if kill == "handler error" {
						return errCrash
					}
					cancel()
					<-ctx.Done()
					return ctx.Err()
				}
				first.add(ev)
				return nil
			})
			if kill == "handler error" && !errors.Is(err, errCrash) || kill != "handler error" && err != nil {
				t.Fatalf("first run returned %v", err)
			}
			if got := first.seqs(); !slices.Equal(got, seqRange(1, 20)) {
				t.Fatalf("first run got %v, want 1-20", got)
			}
			// Second run, a new Subscriber as after a restart.
			second, stop := run(t, j.newSubscriber(subscriber.Config{Durable: name}))
			j.MorePayments("r"+name, 2)
			last := j.Events[len(j.Events)-1].Seq
			deadline := time.Now().Add(waitTimeout)
			for {
				s := second.seqs()
				if len(s) > 0 && s[len(s)-1] == last {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("second run got %v, want up to %d", s, last)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			got := second.seqs()
			var dups []uint64
			for len(got) > 0 && got[0] <= 20 {
				dups, got = append(dups, got[0]), got[1:]
			}
			if !slices.Equal(got, seqRange(21, last)) {
				t.Fatalf("second run after its duplicates %v got %v, want %d-%d", dups, got, 21, last)
			}
			if !slices.Equal(dups, seqRange(20, 20)) {
				t.Fatalf("second run's duplicates %v, want [20] (the record's events before 21)", dups)
			}
			// Third run after a clean stop: only what is new, no duplicate.
			third, stop := run(t, j.newSubscriber(subscriber.Config{Durable: name}))
			j.MorePayments("s"+name, 1)
			waitFor(t, third, 1)
			settleFor(t, third, 1)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if got := third.seqs(); !slices.Equal(got, []uint64{j.Events[len(j.Events)-1].Seq}) {
				t.Fatalf("third run got %v, want only the new event", got)
			}
		})
	}
}

// TestWatermillRouter runs a Subscriber under a watermill Router: one
// message per event, in order; a nacked message comes again before the
// next.
func TestWatermillRouter(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	j.SeedPayments()
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: waitTimeout}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	r := &received{}
	failed := false
	router.AddConsumerHandler("collect", subscriber.JournalStream(j.ledger()), j.newSubscriber(subscriber.Config{Durable: "router"}),
		func(msg *message.Message) error {
			var seq uint64
			if _, err := fmt.Sscan(msg.Metadata.Get(subscriber.MetaSeq), &seq); err != nil {
				return err
			}
			if seq == 10 && !failed {
				failed = true
				return errors.New("try again")
			}
			ev, err := domain.DecodeEvent(msg.Payload)
			if err != nil || ev.Seq != seq || string(ev.Type) != msg.Metadata.Get(subscriber.MetaType) || msg.UUID != fmt.Sprintf("%s:%d", j.ledger(), seq) {
				t.Errorf("message %s %v: event %+v, %v", msg.UUID, msg.Metadata, ev, err)
			}
			r.add(subscriber.Event{Seq: seq})
			return nil
		})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- router.Run(ctx) }()
	waitFor(t, r, 26)
	settleFor(t, r, 26)
	cancel()
	if err := router.Close(); err != nil {
		t.Error(err)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
	if got := r.seqs(); !slices.Equal(got, seqRange(1, 26)) || !failed {
		t.Fatalf("got %v (nacked once: %v), want 1-26", got, failed)
	}
}

// TestConfig refuses what cannot work before contacting anything.
func TestConfig(t *testing.T) {
	j := newJournal(t)
	for name, cfg := range map[string]subscriber.Config{
		"no connection": {},
		"bad durable":   {Conn: j.NC, Durable: "a.b"},
		"unknown type":  {Conn: j.NC, Types: []domain.EventType{"Nope"}},
	} {
		if _, err := subscriber.New(cfg); !errors.Is(err, subscriber.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
	s := j.newSubscriber(subscriber.Config{})
	if _, err := s.Subscribe(context.Background(), "other"); !errors.Is(err, subscriber.ErrConfig) {
		t.Errorf("Subscribe to another topic: %v", err)
	}
}

// TestLastSequence reads the journal's last sequence.
func TestLastSequence(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	if n, err := subscriber.LastSequence(context.Background(), j.JS, j.ledger()); err != nil || n != 0 {
		t.Fatalf("empty journal: %d, %v", n, err)
	}
	j.SeedPayments()
	if n, err := subscriber.LastSequence(context.Background(), j.JS, j.ledger()); err != nil || n != 26 {
		t.Fatalf("seeded journal: %d, %v", n, err)
	}
}
