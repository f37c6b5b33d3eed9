package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/nats-ledger/ledger/domain"
)

// crashRecords decides a journal of records: an asset, accounts, their
// funding, then rounds of transfers between them, with a rejection and a
// later posting of the same id among them.
func crashRecords(t *testing.T) []Record {
	t.Helper()
	st := domain.NewState()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []Record
	var cmd uint64
	add := func(cmds ...domain.Command) {
		cmd++
		now = now.Add(time.Second)
		var evs []*domain.Event
		for i, c := range cmds {
			c.Ref = domain.CommandRef{Seq: cmd, Item: i}
			d := st.Decide(c, now)
			if d.Event == nil {
				t.Fatalf("decide %+v: %+v", c, d)
			}
			evs = append(evs, d.Event)
		}
		recs = append(recs, Record{Position: uint64(len(recs) + 1), Events: evs})
	}
	add(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	var opens, mints []domain.Command
	for i := range 20 {
		id := fmt.Sprintf("acc-%02d", i)
		opens = append(opens, domain.Command{Account: &domain.Account{ID: id, Asset: "USD"}})
		mints = append(mints, domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: domain.World, To: id, Amount: "100"}})
	}
	add(opens...)
	add(mints...)
	add(domain.Command{Transfer: &domain.Transfer{ID: "late", From: "acc-00", To: "acc-01", Amount: "1000"}}) // rejected
	rng := rand.New(rand.NewPCG(3, 4))
	for r := range 200 {
		var cmds []domain.Command
		for i := range 50 {
			from, to := rng.IntN(20), rng.IntN(19)
			if to >= from {
				to++
			}
			cmds = append(cmds, domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("t-%d-%d", r, i),
				From: fmt.Sprintf("acc-%02d", from), To: fmt.Sprintf("acc-%02d", to), Amount: "0.01"}})
		}
		if r == 100 {
			cmds = append(cmds, domain.Command{Transfer: &domain.Transfer{ID: "late", From: "acc-00", To: "acc-01", Amount: "0.01"}})
		}
		add(cmds...)
	}
	return recs
}

// After a crash that loses what Pebble had not synced (a power loss; a
// kill -9 loses less), the store reopens with a checkpoint and exactly the
// rows of the events up to it: no row of a later event, none missing.
// Applying the journal again from there gives the same read model as a
// store that never crashed.
func TestCrashKeepsRowsAndCheckpointTogether(t *testing.T) {
	ctx := context.Background()
	recs := crashRecords(t)
	clean, err := Open(t.TempDir() + "/clean")
	if err != nil {
		t.Fatal(err)
	}
	defer clean.Close()
	if err := clean.ApplyRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, unsynced := range []int{0, 30, 70} {
		t.Run(fmt.Sprintf("unsynced %d%%", unsynced), func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			opts := pebbleOptions(false, false)
			opts.FS = mem
			s, err := openWith("rm", false, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(recs); i += 7 { // groups of 7 records, as the projector commits them
				if err := s.ApplyRecords(ctx, recs[i:min(i+7, len(recs))]); err != nil {
					t.Fatal(err)
				}
			}
			crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsynced, RNG: rand.New(rand.NewPCG(5, uint64(unsynced)))})
			s.Close()

			opts = pebbleOptions(false, false)
			opts.FS = crashed
			s, err = openWith("rm", false, opts)
			if err != nil {
				t.Fatalf("reopen after the crash: %v", err)
			}
			defer s.Close()
			cp := s.Applied()
			checkRowsUpTo(t, s, recs, cp.Seq)
			if err := s.ApplyRecords(ctx, recs); err != nil {
				t.Fatalf("apply the journal again from checkpoint %d: %v", cp.Seq, err)
			}
			sameReadModel(t, clean, s)
			t.Logf("checkpoint after the crash: %+v", cp)
		})
	}
}

// checkRowsUpTo checks that s has a row for every transfer event up to
// seq (the one its id ends with) and none after it.
func checkRowsUpTo(t *testing.T, s *Store, recs []Record, seq uint64) {
	t.Helper()
	latest := map[string]uint64{}
	for _, r := range recs {
		for _, ev := range r.Events {
			var id string
			switch {
			case ev.Transfer != nil:
				id = ev.Transfer.ID
			case ev.Rejection != nil:
				id = ev.Rejection.ID
			default:
				continue
			}
			v, err := s.Transfer(context.Background(), id)
			switch {
			case ev.Seq <= seq:
				latest[id] = ev.Seq
			case err == nil && v.Sequence >= ev.Seq:
				t.Fatalf("transfer %s has its row of sequence %d, past the checkpoint %d", id, v.Sequence, seq)
			}
		}
	}
	for id, want := range latest {
		v, err := s.Transfer(context.Background(), id)
		if err != nil || v.Sequence != want {
			t.Fatalf("transfer %s: %+v, %v; want its row of sequence %d (checkpoint %d)", id, v, err, want, seq)
		}
	}
}

// sameReadModel compares every account's balance and entries page.
func sameReadModel(t *testing.T, want, got *Store) {
	t.Helper()
	ctx := context.Background()
	for i := range 20 {
		id := fmt.Sprintf("acc-%02d", i)
		a, errA := want.Account(ctx, id, "")
		b, errB := got.Account(ctx, id, "")
		if errA != nil || errB != nil || a.Balance != b.Balance || a.Sequence != b.Sequence {
			t.Fatalf("%s: %+v %v; want %+v %v", id, b, errB, a, errA)
		}
		pa, _ := want.Entries(ctx, id, "", "", MaxPageLimit)
		pb, _ := got.Entries(ctx, id, "", "", MaxPageLimit)
		if fmt.Sprint(pa.Data) != fmt.Sprint(pb.Data) || (pa.NextCursor == nil) != (pb.NextCursor == nil) {
			t.Fatalf("entries of %s differ after the crash and catch-up", id)
		}
	}
	if want.Applied() != got.Applied() {
		t.Fatalf("checkpoint %+v, want %+v", got.Applied(), want.Applied())
	}
}
