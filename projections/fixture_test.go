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

	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/projections"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// seedScenario writes journaltest's books scenario, described: the
// transfers with references and kenji with an owner and metadata, for the
// views. It ends at sequence 15, batch 5 at minute 5.
func seedScenario(l *journaltest.Journal) {
	l.T.Helper()
	l.Seed(journaltest.Scenario{Described: true})
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

// removeDB deletes the read model's directory.
func removeDB(t testing.TB, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
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
func runProjector(t testing.TB, store *projections.Store, l *journaltest.Journal, logger *slog.Logger) (*projections.Projector, func()) {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := projections.NewProjector(store, l.NC, l.Names, logger)
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
			b, err := s.BalanceAsOf(ctx, a[0], a[1], projections.AsOf{Time: journaltest.Minute(m)})
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
