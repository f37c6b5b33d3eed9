package projections_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/journalio"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/projections"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// t0 is the fixture's epoch: batch n is stamped t0 + n minutes.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// ledger is a real journal on an in-process JetStream, written the way the
// processor writes it: decided by domain.State, encoded by
// commands.EncodeRecords, appended by infra.Journal.
type ledger struct {
	t       testing.TB
	nc      *nats.Conn
	js      jetstream.JetStream
	names   journalio.Names
	w       *natstest.Writer
	batches int
}

func newLedger(t testing.TB) *ledger {
	t.Helper()
	srv := natstest.Start(t, t.TempDir())
	return &ledger{t: t, nc: srv.NC, js: srv.JS, names: srv.Names, w: srv.Writer()}
}

// batch decides cmds as one processor batch stamped minute(n) for the n-th
// batch, appends the resulting events and returns the decisions.
func (l *ledger) batch(cmds ...domain.Command) []domain.Decision {
	l.t.Helper()
	l.batches++
	out, _ := l.w.Batch(l.t, minute(l.batches), cmds...)
	return out
}

func defineAsset(code string, scale int) domain.Command {
	return domain.Command{DefineAsset: &domain.Asset{Code: code, Scale: scale}}
}

func openAccount(id, asset, limit string) domain.Command {
	return domain.Command{OpenAccount: &domain.Account{ID: id, Asset: asset, OverdraftLimit: limit}}
}

func transfer(id, from, to, amount, ref string) domain.Command {
	return domain.Command{Transfer: &domain.Transfer{ID: id, From: from, To: to, Amount: amount, Reference: ref}}
}

// seedScenario writes the shared scenario, five batches at minutes 1-5:
//
//	seq 1-2   (1) assets USD (scale 2), JPY (scale 0)
//	seq 3-6   (2) accounts alice, bob, carol (overdraft 10), kenji (JPY, owner, metadata)
//	seq 7-9   (3) mints m1 world->alice 100, m2 world->bob 50.5, m3 world->kenji 1000 JPY
//	seq 10-13 (4) t1 alice->bob 25.50 "invoice 42%", t2 bob->carol 10 "rent_march",
//	              t3 carol->alice 500 rejected (insufficient), t4 dave->alice rejected (no account)
//	seq 14-15 (5) t3 again carol->alice 15 "retry" posted, t5 bob->world 6 (burn)
//
// Final balances: alice 89.50, bob 60.00, carol -5.00, world USD -144.50,
// kenji 1000, world JPY -1000.
func seedScenario(l *ledger) {
	l.t.Helper()
	l.batch(defineAsset("USD", 2), defineAsset("JPY", 0))
	kenji := domain.Command{OpenAccount: &domain.Account{ID: "kenji", Asset: "JPY", Owner: "k", Metadata: map[string]string{"tier": "gold"}}}
	l.batch(openAccount("alice", "USD", ""), openAccount("bob", "USD", ""), openAccount("carol", "USD", "10"), kenji)
	l.batch(transfer("m1", "world", "alice", "100", "mint"), transfer("m2", "world", "bob", "50.5", "mint"),
		domain.Command{Transfer: &domain.Transfer{ID: "m3", From: "world", To: "kenji", Amount: "1000", Asset: "JPY"}})
	ds := l.batch(transfer("t1", "alice", "bob", "25.5", "invoice 42%"), transfer("t2", "bob", "carol", "10", "rent_march"),
		transfer("t3", "carol", "alice", "500", "too much"), transfer("t4", "dave", "alice", "1", ""))
	if ds[2].Outcome != domain.Rejected || ds[3].Outcome != domain.Rejected {
		l.t.Fatalf("scenario: t3, t4 should be rejected: %+v %+v", ds[2], ds[3])
	}
	ds = l.batch(transfer("t3", "carol", "alice", "15", "retry"), transfer("t5", "bob", "world", "6", "burn"))
	if ds[0].Outcome != domain.Posted || ds[1].Outcome != domain.Posted {
		l.t.Fatalf("scenario: t3, t5 should post: %+v %+v", ds[0], ds[1])
	}
	if l.w.State.Seq() != 15 {
		l.t.Fatalf("scenario ends at %d, want 15", l.w.State.Seq())
	}
}

func openStore(t testing.TB, path string) *projections.Store {
	t.Helper()
	s, err := projections.Open(path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// removeDB deletes the SQLite file and its WAL companions.
func removeDB(t testing.TB, path string) {
	t.Helper()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still exists", filepath.Base(path))
	}
}

// errorCounter is a slog handler that counts Error records, for tests
// that check the projector retries.
type errorCounter struct{ n atomic.Int64 }

func (c *errorCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *errorCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		c.n.Add(1)
	}
	return nil
}
func (c *errorCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *errorCounter) WithGroup(string) slog.Handler      { return c }

// runProjector runs a projector on store until the returned stop is
// called; stop fails the test if Run does not return nil promptly.
func runProjector(t testing.TB, store *projections.Store, l *ledger, logger *slog.Logger) (*projections.Projector, func()) {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := projections.NewProjector(store, l.nc, l.names, logger)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stopped := false
	stop := func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("projector Run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("projector did not stop within %s", waitTimeout)
		}
	}
	t.Cleanup(stop)
	return p, stop
}

func waitSeq(t testing.TB, s *projections.Store, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := s.WaitSeq(ctx, seq); err != nil {
		t.Fatalf("wait for sequence %d: %v", seq, err)
	}
}

// snapshot is everything the queries say about the scenario's ledger.
type snapshot struct {
	Checkpoint projections.Checkpoint
	Accounts   []projections.AccountView
	Entries    map[string][]projections.EntryView
	Transfers  []projections.TransferView
	Balances   []projections.BalanceView
}

// scenarioAccounts lists the accounts of the scenario as (id, asset).
var scenarioAccounts = [][2]string{
	{"alice", ""}, {"bob", ""}, {"carol", ""}, {"kenji", ""}, {"world", "USD"}, {"world", "JPY"},
}

// takeSnapshot reads every account, every entry and transfer through the
// paginated queries, and every balance as of every sequence and minute.
func takeSnapshot(t testing.TB, s *projections.Store) snapshot {
	t.Helper()
	ctx := context.Background()
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap := snapshot{Checkpoint: cp, Entries: map[string][]projections.EntryView{}}
	for _, a := range scenarioAccounts {
		v, err := s.Account(ctx, a[0], a[1])
		if err != nil {
			t.Fatalf("account %v: %v", a, err)
		}
		snap.Accounts = append(snap.Accounts, v)
		snap.Entries[a[0]+"/"+a[1]] = allEntries(t, s, a[0], a[1], 2)
		for seq := uint64(1); seq <= cp.Seq+1; seq++ {
			b, err := s.BalanceAsOf(ctx, a[0], a[1], projections.AsOf{Seq: seq})
			if err != nil {
				t.Fatalf("balance %v as of %d: %v", a, seq, err)
			}
			snap.Balances = append(snap.Balances, b)
		}
		for m := 0; m <= 8; m++ {
			b, err := s.BalanceAsOf(ctx, a[0], a[1], projections.AsOf{Time: minute(m)})
			if err != nil {
				t.Fatalf("balance %v as of minute %d: %v", a, m, err)
			}
			snap.Balances = append(snap.Balances, b)
		}
	}
	snap.Transfers = allTransfers(t, s, projections.TransferFilter{Limit: 3, Status: projections.StatusAll})
	return snap
}

// allEntries pages through an account's entries, limit per page.
func allEntries(t testing.TB, s *projections.Store, id, asset string, limit int) []projections.EntryView {
	t.Helper()
	var all []projections.EntryView
	cursor := ""
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("entries: pagination does not end")
		}
		p, err := s.Entries(context.Background(), id, asset, cursor, limit)
		if err != nil {
			t.Fatalf("entries of %s: %v", id, err)
		}
		if len(p.Data) > limit {
			t.Fatalf("entries page of %d > limit %d", len(p.Data), limit)
		}
		all = append(all, p.Data...)
		if p.NextCursor == nil {
			return all
		}
		cursor = *p.NextCursor
	}
}

// allTransfers pages through a transfer listing.
func allTransfers(t testing.TB, s *projections.Store, f projections.TransferFilter) []projections.TransferView {
	t.Helper()
	var all []projections.TransferView
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("transfers: pagination does not end")
		}
		p, err := s.Transfers(context.Background(), f)
		if err != nil {
			t.Fatalf("transfers %+v: %v", f, err)
		}
		if len(p.Data) > f.Limit {
			t.Fatalf("transfers page of %d > limit %d", len(p.Data), f.Limit)
		}
		all = append(all, p.Data...)
		if p.NextCursor == nil {
			return all
		}
		f.Cursor = *p.NextCursor
	}
}
