package projections_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/projections"
)

// readRecords returns the ledger's journal records with their events.
func readRecords(t testing.TB, l *journaltest.Journal) ([]domain.Record, [][]*domain.Event) {
	t.Helper()
	var recs []domain.Record
	var evs [][]*domain.Event
	_, err := journalio.ReadJournal(context.Background(), l.JS, l.Names, 1, func(r domain.Record) error {
		lines, err := domain.SplitRecord(r.Data)
		if err != nil {
			return err
		}
		var events []*domain.Event
		for _, line := range lines {
			ev, err := domain.DecodeEvent(line)
			if err != nil {
				return err
			}
			events = append(events, ev)
		}
		recs, evs = append(recs, r), append(evs, events)
		return nil
	})
	if err != nil {
		t.Fatalf("read journal: %v", err)
	}
	return recs, evs
}

// TestApplyRecordIsIdempotent applies every record twice, and again at
// the end: nothing changes after the first time.
func TestApplyRecordIsIdempotent(t *testing.T) {
	l := journaltest.New(t)
	seedScenario(l)
	recs, evs := readRecords(t, l)
	s := openStore(t, t.TempDir()+"/read.db")
	ctx := context.Background()
	for i, r := range recs {
		for range 2 {
			if err := s.ApplyRecord(ctx, r.Position, evs[i]); err != nil {
				t.Fatalf("apply record %d: %v", r.Position, err)
			}
		}
	}
	before := takeSnapshot(t, s)
	for i, r := range recs {
		if err := s.ApplyRecord(ctx, r.Position, evs[i]); err != nil {
			t.Fatalf("re-apply record %d: %v", r.Position, err)
		}
	}
	// A record overlapping the checkpoint applies only its new events:
	// here, none.
	last := len(recs) - 1
	overlap := append(append([]*domain.Event{}, evs[last-1]...), evs[last]...)
	if err := s.ApplyRecord(ctx, recs[last].Position, overlap); err != nil {
		t.Errorf("overlapping record: %v", err)
	}
	if after := takeSnapshot(t, s); !reflect.DeepEqual(before, after) {
		t.Errorf("re-applying changed the read model\nbefore %+v\nafter  %+v", before, after)
	}
	if before.Checkpoint != (projections.Checkpoint{Seq: 15, Position: l.W.Position}) {
		t.Errorf("checkpoint %+v", before.Checkpoint)
	}
	if n := len(before.Entries["alice/"]); n != 3 {
		t.Errorf("alice has %d entries, want 3", n)
	}
}

// TestApplyRecordIsAtomic checks that a record failing part-way applies
// nothing, the checkpoint included, and that gaps are refused.
func TestApplyRecordIsAtomic(t *testing.T) {
	l := journaltest.New(t)
	seedScenario(l)
	recs, evs := readRecords(t, l)
	s := openStore(t, t.TempDir()+"/read.db")
	ctx := context.Background()
	for i, r := range recs {
		if err := s.ApplyRecord(ctx, r.Position, evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	before := takeSnapshot(t, s)

	// Event 16 posts a valid transfer; event 17 opens "bob" again, which
	// breaks the accounts' unique index after 16's rows are written.
	d := l.W.State.Decide(journaltest.Transfer("t7", "alice", "bob", "1", journaltest.Reference("atomic")), journaltest.Minute(9))
	if d.Outcome != domain.Posted || d.Event.Seq != 16 {
		t.Fatalf("decide t7: %+v", d)
	}
	dup := &domain.Event{Seq: 17, Type: domain.EventAccountOpened, Version: domain.SchemaVersion, Time: journaltest.Minute(9),
		Account: &domain.Account{ID: "bob", Asset: "USD", OverdraftLimit: "0.00"}}
	pos := l.W.Position + 1
	if err := s.ApplyRecord(ctx, pos, []*domain.Event{d.Event, dup}); err == nil {
		t.Fatal("a duplicate account applied")
	}
	if after := takeSnapshot(t, s); !reflect.DeepEqual(before, after) {
		t.Errorf("a failed record changed the read model\nbefore %+v\nafter  %+v", before, after)
	}
	if _, err := s.Transfer(ctx, "t7"); !errors.Is(err, projections.ErrNotFound) {
		t.Errorf("t7 of the failed record: %v, want ErrNotFound", err)
	}

	gap := *d.Event
	gap.Seq = 17
	if err := s.ApplyRecord(ctx, pos, []*domain.Event{&gap}); !errors.Is(err, domain.ErrSequenceGap) {
		t.Errorf("gap: %v, want ErrSequenceGap", err)
	}
	if err := s.ApplyRecord(ctx, pos, nil); !errors.Is(err, projections.ErrEmptyRecord) {
		t.Errorf("empty record: %v, want ErrEmptyRecord", err)
	}
	unknown := &domain.Event{Seq: 16, Type: domain.EventTransferPosted, Time: journaltest.Minute(9), Transfer: &domain.PostedTransfer{
		Transfer: domain.Transfer{ID: "t8", From: "alice", To: "zed", Amount: "1.00", Asset: "USD"},
		Entries: [2]domain.Entry{{Account: "alice", Type: "debit", Amount: "1.00", Balance: "88.50"},
			{Account: "zed", Type: "credit", Amount: "1.00", Balance: "1.00"}}}}
	if err := s.ApplyRecord(ctx, pos, []*domain.Event{unknown}); !errors.Is(err, domain.ErrInconsistent) {
		t.Errorf("posting to an unknown account: %v, want ErrInconsistent", err)
	}
	if cp, _ := s.Checkpoint(ctx); cp != before.Checkpoint {
		t.Errorf("checkpoint moved to %+v after failures", cp)
	}

	// The valid event alone applies.
	if err := s.ApplyRecord(ctx, pos, []*domain.Event{d.Event}); err != nil {
		t.Fatal(err)
	}
	if cp, _ := s.Checkpoint(ctx); cp != (projections.Checkpoint{Seq: 16, Position: pos}) {
		t.Errorf("checkpoint %+v, want 16 at %d", cp, pos)
	}
	if a, _ := s.Account(ctx, "alice", ""); a.Balance != "88.50" || a.Sequence != 16 {
		t.Errorf("alice after t7: %+v", a)
	}
}

// TestProjectorRestartCatchesUp stops a projector, extends the journal,
// and starts a new projector on the same store: it resumes from the
// checkpoint with no duplicates.
func TestProjectorRestartCatchesUp(t *testing.T) {
	l := journaltest.New(t)
	seedScenario(l)
	s := openStore(t, t.TempDir()+"/read.db")
	_, stop := runProjector(t, s, l, nil)
	waitSeq(t, s, 15)
	stop()

	l.Batch(journaltest.Transfer("t6", "alice", "bob", "1", journaltest.Reference("after restart")), journaltest.Transfer("t7", "bob", "carol", "2"))
	p, _ := runProjector(t, s, l, nil)
	waitSeq(t, s, 17)
	ctx := context.Background()
	if cp, _ := s.Checkpoint(ctx); cp != (projections.Checkpoint{Seq: 17, Position: l.W.Position}) {
		t.Errorf("checkpoint %+v, want 17 at %d", cp, l.W.Position)
	}
	if p.Position() != l.W.Position {
		t.Errorf("Position() = %d, want %d", p.Position(), l.W.Position)
	}
	for id, want := range map[string]struct {
		balance string
		entries int
	}{"alice": {"88.50", 4}, "bob": {"59.00", 6}, "carol": {"-3.00", 3}} {
		a, err := s.Account(ctx, id, "")
		if err != nil || a.Balance != want.balance {
			t.Errorf("%s: %+v, %v; want balance %s", id, a, err, want.balance)
		}
		if n := len(allEntries(t, s, id, "", 100)); n != want.entries {
			t.Errorf("%s has %d entries, want %d", id, n, want.entries)
		}
	}
	if n := len(allTransfers(t, s, projections.TransferFilter{Limit: 100, Status: projections.StatusAll})); n != 10 {
		t.Errorf("%d transfers, want 10", n)
	}

	// It keeps following: a batch appended while it runs arrives too.
	l.Batch(journaltest.Transfer("t8", "carol", "alice", "3", journaltest.Reference("live")))
	waitSeq(t, s, 18)
	if a, _ := s.Account(ctx, "alice", ""); a.Balance != "91.50" {
		t.Errorf("alice after t8: %s", a.Balance)
	}
}

// TestRebuildFromJournal deletes the SQLite file and rebuilds it from the
// journal: every query answers as before.
func TestRebuildFromJournal(t *testing.T) {
	l := journaltest.New(t)
	seedScenario(l)
	path := t.TempDir() + "/read.db"
	s, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_, stop := runProjector(t, s, l, nil)
	waitSeq(t, s, 15)
	stop()
	before := takeSnapshot(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	removeDB(t, path)

	s2 := openStore(t, path)
	if cp, _ := s2.Checkpoint(context.Background()); cp != (projections.Checkpoint{}) {
		t.Fatalf("new store's checkpoint %+v", cp)
	}
	runProjector(t, s2, l, nil)
	waitSeq(t, s2, 15)
	if after := takeSnapshot(t, s2); !reflect.DeepEqual(before, after) {
		t.Errorf("rebuilt read model differs\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestProjectorStopsAtABadRecord puts a record the projector cannot read
// into the journal: it stays at the checkpoint before it, retries with
// backoff, never skips it, and still stops cleanly.
func TestProjectorStopsAtABadRecord(t *testing.T) {
	l := journaltest.New(t)
	seedScenario(l)
	bad := nats.NewMsg(l.Names.EventSubject(string(domain.EventTransferPosted)))
	bad.Data = []byte("not a record\n")
	bad.Header.Set(journalio.HeaderFirstSeq, "16")
	bad.Header.Set(journalio.HeaderLastSeq, "16")
	bad.Header.Set(journalio.HeaderFormat, journalio.RecordFormat)
	if _, err := l.JS.PublishMsg(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, t.TempDir()+"/read.db")
	errs := &errorCounter{}
	_, stop := runProjector(t, s, l, slog.New(errs))
	waitSeq(t, s, 15)
	deadline := time.Now().Add(waitTimeout)
	for errs.n.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if errs.n.Load() < 3 {
		t.Fatalf("projector logged %d errors, want at least 3 retries", errs.n.Load())
	}
	if cp, _ := s.Checkpoint(context.Background()); cp != (projections.Checkpoint{Seq: 15, Position: l.W.Position}) {
		t.Errorf("checkpoint %+v, want 15 at %d", cp, l.W.Position)
	}
	stop()
}

// TestWaitSeq checks that WaitSeq wakes on ApplyRecord, honours its
// context and returns ErrClosed once the store is closed.
func TestWaitSeq(t *testing.T) {
	l := journaltest.New(t)
	seedScenario(l)
	recs, evs := readRecords(t, l)
	s := openStore(t, t.TempDir()+"/read.db")
	ctx := context.Background()

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := s.WaitSeq(short, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitSeq on an empty store: %v, want DeadlineExceeded", err)
	}
	woke := make(chan error, 1)
	go func() { woke <- s.WaitSeq(ctx, 15) }()
	for i, r := range recs {
		select {
		case err := <-woke:
			t.Fatalf("WaitSeq(15) returned %v before record %d", err, i)
		default:
		}
		if err := s.ApplyRecord(ctx, r.Position, evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-woke:
		if err != nil {
			t.Errorf("WaitSeq(15): %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("WaitSeq(15) did not wake")
	}
	if err := s.WaitSeq(ctx, 3); err != nil {
		t.Errorf("WaitSeq for a past sequence: %v", err)
	}
	go func() { woke <- s.WaitSeq(ctx, 99) }()
	time.Sleep(10 * time.Millisecond)
	s.Close()
	select {
	case err := <-woke:
		if !errors.Is(err, projections.ErrClosed) {
			t.Errorf("WaitSeq after Close: %v, want ErrClosed", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("WaitSeq did not return on Close")
	}
}

// TestProjectorStopsMidStream stops projectors while records are still
// buffered for them (watermill's handler busy, more prefetched), then
// finishes with a last one: every record is applied exactly once.
func TestProjectorStopsMidStream(t *testing.T) {
	const records = 300
	l := journaltest.New(t)
	l.Batch(journaltest.DefineAsset("USD", 2))
	l.Batch(journaltest.OpenAccount("alice", "USD", ""))
	for i := range records {
		l.Batch(journaltest.Transfer(fmt.Sprintf("mint-%d", i), "world", "alice", "1"))
	}
	last := l.W.State.Seq()
	s := openStore(t, t.TempDir()+"/read.db")
	for k := uint64(1); k <= 6; k++ {
		_, stop := runProjector(t, s, l, nil)
		waitSeq(t, s, k*last/8)
		stop()
	}
	runProjector(t, s, l, nil)
	waitSeq(t, s, last)
	a, err := s.Account(context.Background(), "alice", "")
	if err != nil || a.Balance != "300.00" {
		t.Errorf("alice: %+v, %v; want 300.00", a, err)
	}
	if n := len(allEntries(t, s, "alice", "", 100)); n != records {
		t.Errorf("alice has %d entries, want %d", n, records)
	}
}
