package commands_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
)

var quiet = slog.New(slog.NewTextHandler(testLogOut, nil))

// ledger is a processor and a submitter on a test server.
type ledger struct {
	srv    *natstest.Server
	src    *infra.CommandSource
	sub    *infra.Submitter
	proc   *commands.Processor
	cancel context.CancelFunc
	done   chan error
}

// start runs a processor over srv; source wraps the real command source
// when a test needs to interfere with acknowledgements.
func start(t *testing.T, srv *natstest.Server, wrap func(commands.CommandSource) commands.CommandSource) *ledger {
	t.Helper()
	return startWith(t, srv, wrap, commands.Config{Logger: quiet})
}

// startWith is start with a processor configuration.
func startWith(t *testing.T, srv *natstest.Server, wrap func(commands.CommandSource) commands.CommandSource, cfg commands.Config) *ledger {
	t.Helper()
	src := infra.NewCommandSource(srv.JS, srv.Names)
	var source commands.CommandSource = src
	if wrap != nil {
		source = wrap(source)
	}
	proc := commands.New(infra.NewJournal(srv.JS, srv.Names), source, infra.NewNotifier(srv.NC), cfg)
	sub, err := infra.NewSubmitter(srv.NC, srv.JS, srv.Names, infra.GroupCommit{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &ledger{srv: srv, src: src, sub: sub, proc: proc, cancel: cancel, done: make(chan error, 1)}
	go func() { l.done <- proc.Run(ctx) }()
	t.Cleanup(l.stop)
	return l
}

func (l *ledger) stop() {
	if l.cancel == nil {
		return
	}
	l.cancel()
	<-l.done
	l.src.Close()
	_ = l.sub.Close()
	l.cancel = nil
}

func (l *ledger) submit(t *testing.T, items ...commands.Item) []commands.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rs, err := l.sub.Submit(ctx, items, true)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return rs
}

func transfer(id, from, to, amount string) commands.Item {
	return commands.Item{Transfer: &domain.Transfer{ID: id, From: from, To: to, Amount: amount}}
}

func setup(t *testing.T, l *ledger) {
	t.Helper()
	rs := l.submit(t,
		commands.Item{Asset: &domain.Asset{Code: "USD", Scale: 2}},
		commands.Item{Account: &domain.Account{ID: "alice", Asset: "USD"}},
		commands.Item{Account: &domain.Account{ID: "bob", Asset: "USD"}},
		transfer("mint-1", domain.World, "alice", "50.00"),
	)
	for i, r := range rs {
		if r.Outcome != commands.OutcomeCreated && r.Outcome != commands.OutcomePosted {
			t.Fatalf("setup item %d: %+v", i, r)
		}
	}
}

func journalEvents(t *testing.T, srv *natstest.Server) []*domain.Event {
	t.Helper()
	return journaltest.ReadEvents(t, srv.JS, srv.Names)
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	srv := natstest.Start(t, dir)
	l := start(t, srv, nil)
	setup(t, l)
	first := l.submit(t, transfer("t-1", "alice", "bob", "20.00"))[0]
	if first.Outcome != commands.OutcomePosted || first.Event.Transfer.Entries[0].Balance != "30.00" {
		t.Fatalf("t-1: %+v", first)
	}
	l.stop()
	srv.Stop()

	srv = natstest.Start(t, dir)
	l = start(t, srv, nil)
	again := l.submit(t, transfer("t-1", "alice", "bob", "20"))[0]
	if again.Outcome != commands.OutcomeReplayed || again.Seq != first.Seq {
		t.Fatalf("replay after restart: %+v, want replayed at %d", again, first.Seq)
	}
	next := l.submit(t, transfer("t-2", "alice", "bob", "30.01"))[0]
	if next.Outcome != commands.OutcomeRejected || next.Code != domain.CodeInsufficientFunds {
		t.Fatalf("t-2: %+v", next)
	}
	if want := "insufficient balance: balance was 30.00 USD, at least 30.01 USD is required"; next.Detail != want {
		t.Fatalf("detail %q, want %q", next.Detail, want)
	}
	evs := journalEvents(t, srv)
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has sequence %d", i, ev.Seq)
		}
	}
	if got := evs[len(evs)-1].Type; got != domain.EventTransferRejected {
		t.Fatalf("last event %s", got)
	}
}

func TestSecondWriterIsFenced(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	l := start(t, srv, nil)
	setup(t, l)
	journal := infra.NewJournal(srv.JS, srv.Names)
	// A stale writer: it rebuilt its state, then the active one moved on.
	stale, hash, pos, err := commands.Rebuild(context.Background(), journal)
	if err != nil {
		t.Fatal(err)
	}
	l.submit(t, transfer("t-1", "alice", "bob", "1.00"))

	d := stale.Decide(domain.Command{Ref: domain.CommandRef{Seq: 999}, Transfer: &domain.Transfer{ID: "stale", From: "alice", To: "bob", Amount: "50.00"}}, time.Now())
	if d.Outcome != domain.Posted {
		t.Fatalf("stale decision: %+v", d)
	}
	records, _, err := commands.EncodeRecords([]*domain.Event{d.Event}, hash, 1000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	_, err = journal.Append(context.Background(), records, pos)
	if !errors.Is(err, commands.ErrFenced) {
		t.Fatalf("stale append: %v, want ErrFenced", err)
	}
	for _, ev := range journalEvents(t, srv) {
		if ev.Transfer != nil && ev.Transfer.ID == "stale" {
			t.Fatal("the stale writer's event is in the journal")
		}
	}
	// The active processor is unaffected.
	if r := l.submit(t, transfer("t-2", "alice", "bob", "1.00"))[0]; r.Outcome != commands.OutcomePosted {
		t.Fatalf("t-2 after fencing: %+v", r)
	}
}

// dropAcks loses every acknowledgement, as a crash between the journal
// append and the ack would.
type dropAcks struct{ commands.CommandSource }

func (d dropAcks) Next(ctx context.Context, max int) ([]commands.CommandMessage, error) {
	msgs, err := d.CommandSource.Next(ctx, max)
	for i := range msgs {
		msgs[i].Ack = func() error { return nil }
	}
	return msgs, err
}

func TestRedeliveredCommandIsNotAppliedTwice(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	l := start(t, srv, func(s commands.CommandSource) commands.CommandSource { return dropAcks{s} })
	setup(t, l)
	for i := 0; i < 5; i++ {
		if r := l.submit(t, transfer(fmt.Sprintf("t-%d", i), "alice", "bob", "1.00"))[0]; r.Outcome != commands.OutcomePosted {
			t.Fatalf("t-%d: %+v", i, r)
		}
	}
	before := len(journalEvents(t, srv))
	l.stop()

	// Nothing was acknowledged, so the new processor gets every command
	// again; each must be recognised as decided.
	l = start(t, srv, nil)
	if r := l.submit(t, transfer("after", "alice", "bob", "1.00"))[0]; r.Outcome != commands.OutcomePosted {
		t.Fatalf("after restart: %+v", r)
	}
	evs := journalEvents(t, srv)
	if len(evs) != before+1 {
		t.Fatalf("journal has %d events, want %d: redelivered commands were applied again", len(evs), before+1)
	}
	if bal := evs[len(evs)-1].Transfer.Entries[0].Balance; bal != "44.00" {
		t.Fatalf("alice after: %s, want 44.00", bal)
	}
}

func TestConcurrentTransfersNeverOverdraw(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	l := start(t, srv, nil)
	setup(t, l)
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[commands.Outcome]int{}
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := l.submit(t, transfer(fmt.Sprintf("c-%d", i), "alice", "bob", "1.00"))[0]
			mu.Lock()
			outcomes[r.Outcome]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if outcomes[commands.OutcomePosted] != 50 || outcomes[commands.OutcomeRejected] != 50 {
		t.Fatalf("outcomes %v, want 50 posted and 50 rejected", outcomes)
	}
}

var testLogOut io.Writer = io.Discard
