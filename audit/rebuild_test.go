package audit_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/projections"
)

// mixedLedger writes a random mix of every command kind (mix, as the
// mixed audit test draws it) on a ledger with two assets and a rate.
func mixedLedger(t *testing.T, seed uint64) *ledger {
	t.Helper()
	l := newLedger(t)
	m := &mix{rng: rand.New(rand.NewPCG(seed, 7)), l: l, accounts: map[string]string{}}
	setup := []domain.Command{
		{Asset: &domain.Asset{Code: "USD", Scale: 2}}, {Asset: &domain.Asset{Code: "EUR", Scale: 2}},
		{Rate: &domain.RateSet{Base: "USD", Quote: "EUR", Rate: "0.9"}},
	}
	for _, a := range []struct{ id, asset, owner string }{
		{"alice", "USD", "alice"}, {"bob", "USD", "bob"}, {"carol", "USD", ""}, {"dave", "USD", ""}, {"erin", "EUR", ""},
	} {
		m.accounts[a.id] = a.asset
		setup = append(setup, domain.Command{Account: &domain.Account{ID: a.id, Asset: a.asset, Owner: a.owner}})
	}
	for _, id := range []string{"alice", "bob", "dave"} {
		setup = append(setup, domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: domain.World, To: id, Amount: "200"}})
	}
	l.Batch(setup...)
	for range 150 {
		cmds := make([]domain.Command, 1+m.rng.IntN(4))
		for i := range cmds {
			cmds[i] = m.command()
		}
		for _, d := range l.Batch(cmds...) {
			if d.Event != nil {
				m.note(d.Event)
			}
		}
		if m.rng.IntN(4) == 0 {
			l.Idle()
		}
	}
	return l
}

// journalRecords reads l's journal records (positions and events) as the
// replay does.
func journalRecords(t *testing.T, l *ledger) []projections.Record {
	t.Helper()
	var recs []projections.Record
	res, err := audit.Run(context.Background(), l.source(), audit.Options{OnChunk: func(c audit.Chunk, evs []*domain.Event) error {
		recs = append(recs, projections.Record{Position: c.Position, Events: evs})
		return nil
	}})
	if err != nil || !res.Report.OK {
		t.Fatalf("audit: %v %v", err, res.Report.Findings)
	}
	return recs
}

// storeRows returns every key and value of the read model at path.
func storeRows(t *testing.T, path string) []string {
	t.Helper()
	snap, err := projections.OpenSnapshot(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var rows []string
	err = snap.EachRow(context.Background(), func(k, v []byte) error {
		rows = append(rows, fmt.Sprintf("%q=%q", k, v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// mustEqualRows fails unless the read models at want and got hold the
// same keys with the same values.
func mustEqualRows(t *testing.T, want, got string) {
	t.Helper()
	a, b := storeRows(t, want), storeRows(t, got)
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			t.Fatalf("row %d of %d: bulk build has %s, the projector's store %s", i, len(a), b[i], a[i])
		}
	}
	if len(a) != len(b) {
		t.Fatalf("bulk build has %d rows, the projector's store %d", len(b), len(a))
	}
}

// A bulk build (sorted runs spilled and merged, transfer rows ingested
// batch by batch) writes exactly the keys and values that the projector's
// ApplyRecords writes for the same records, for journals with every event
// type; and the read-model audit accepts it.
func TestBulkBuildHasTheProjectorsRows(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(2) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			l := mixedLedger(t, seed)
			recs := journalRecords(t, l)
			dir := t.TempDir()
			projected, built := filepath.Join(dir, "projected"), filepath.Join(dir, "built")
			inc, err := projections.Open(projected)
			if err != nil {
				t.Fatal(err)
			}
			// 4 KiB runs: dozens of spilled chunks and merged tables.
			bulk, err := projections.OpenForBulkBuild(built, 4<<10)
			if err != nil {
				t.Fatal(err)
			}
			// One call per record, as the projector applies a busy
			// journal's records, and one in three of two.
			for i := 0; i < len(recs); {
				n := 1 + i%3/2
				group := recs[i:min(i+n, len(recs))]
				if err := inc.ApplyRecords(ctx, group); err != nil {
					t.Fatal(err)
				}
				if err := bulk.ApplyRecords(ctx, group); err != nil {
					t.Fatal(err)
				}
				i += n
			}
			if err := errors.Join(inc.Close(), bulk.FinishBuild(ctx), bulk.Close()); err != nil {
				t.Fatal(err)
			}
			mustEqualRows(t, projected, built)
			mustOK(t, auditWith(t, l, built))

			// ledger replay's own path: the bulk build from scratch, and
			// the batch path (--continue on an empty directory) it
			// replaced, on the same records.
			viaBatches, viaBulk := filepath.Join(dir, "batches"), filepath.Join(dir, "bulk")
			replay(t, l, viaBatches, audit.ReplayOptions{Continue: true})
			replay(t, l, viaBulk, audit.ReplayOptions{RunBytes: 4 << 10})
			mustEqualRows(t, viaBatches, viaBulk)
			mustOK(t, auditWith(t, l, viaBulk))
		})
	}
}

// A bulk build that stops before FinishBuild (a crash, a journal that
// fails its audit) leaves a store every Open refuses as an unfinished
// build, which the node moves aside and rebuilds (ErrSchemaVersion) and a
// replay from scratch replaces; --continue does not build on it.
func TestUnfinishedBulkBuildIsRefused(t *testing.T) {
	ctx := context.Background()
	l := mixedLedger(t, 5)
	recs := journalRecords(t, l)
	path := filepath.Join(t.TempDir(), "readmodel")
	s, err := projections.OpenForBulkBuild(path, 4<<10)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyRecords(ctx, recs[:len(recs)/2]); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // no FinishBuild
		t.Fatal(err)
	}
	if _, err := projections.Open(path); !errors.Is(err, projections.ErrIncompleteBuild) || !errors.Is(err, projections.ErrSchemaVersion) {
		t.Fatalf("open an unfinished build: %v", err)
	}
	if _, err := projections.OpenSnapshot(ctx, path); !errors.Is(err, projections.ErrIncompleteBuild) {
		t.Fatalf("audit an unfinished build: %v", err)
	}
	if _, err := audit.Replay(ctx, l.source(), audit.ReplayOptions{Out: path, Continue: true}); !errors.Is(err, projections.ErrIncompleteBuild) {
		t.Fatalf("continue an unfinished build: %v", err)
	}
	st := replay(t, l, path, audit.ReplayOptions{})
	if st.LastSeq != l.Seq() {
		t.Fatalf("replay over an unfinished build: %+v", st)
	}
	mustOK(t, auditWith(t, l, path))
}

// A replay of a journal that fails its audit after some batches were
// applied leaves no store that opens as complete.
func TestFailedReplayLeavesNoCompleteStore(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	lines := l.export(10, 10)
	publishRaw(t, l, lines[0], "10", "10") // event 10 again: out of order
	path := filepath.Join(t.TempDir(), "rm")
	_, err := audit.Replay(context.Background(), l.source(), audit.ReplayOptions{Out: path})
	if !errors.Is(err, audit.ErrFailed) {
		t.Fatalf("replay of a tampered journal: %v", err)
	}
	if s, err := projections.Open(path); err == nil {
		cp := s.Applied()
		s.Close()
		t.Fatalf("a failed replay left a store that opens, at %+v", cp)
	}
}

// publishRaw appends data to the journal stream as a record of first..last,
// bypassing the processor.
func publishRaw(t *testing.T, l *ledger, data []byte, first, last string) {
	t.Helper()
	msg := nats.NewMsg(l.Names.EventSubject(string(domain.EventTransferPosted)))
	msg.Data = data
	msg.Header.Set(journalio.HeaderFirstSeq, first)
	msg.Header.Set(journalio.HeaderLastSeq, last)
	msg.Header.Set(journalio.HeaderFormat, journalio.RecordFormat)
	if _, err := l.JS.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}
