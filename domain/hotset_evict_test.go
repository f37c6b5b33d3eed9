package domain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// postMany decides n new transfers (ids prefix-0, prefix-1, ...) on a,
// in messages of 100, evicting after each message as the processor does
// unless hold is set.
func postMany(t *testing.T, a *archived, prefix string, n int, seq *uint64, hold bool) {
	t.Helper()
	now := time.Unix(0, 0)
	for i := 0; i < n; {
		var cs []domain.Command
		for ; len(cs) < 100 && i < n; i++ {
			*seq++
			cs = append(cs, domain.Command{Ref: domain.CommandRef{Seq: *seq},
				Transfer: &domain.Transfer{ID: fmt.Sprintf("%s-%d", prefix, i), From: domain.World, To: "a", Amount: "1"}})
		}
		a.prefetch(cs)
		for _, c := range cs {
			if d := a.st.Decide(c, now); d.Outcome != domain.Posted {
				t.Fatalf("%s: %v %v", c.Transfer.ID, d.Outcome, d.Err)
			}
		}
		if !hold {
			a.evict()
		}
	}
}

func openAccount(t *testing.T, a *archived, seq *uint64) {
	t.Helper()
	for _, c := range []domain.Command{{Asset: &domain.Asset{Code: "USD", Scale: 2}}, {Account: &domain.Account{ID: "a", Asset: "USD"}}} {
		*seq++
		c.Ref = domain.CommandRef{Seq: *seq}
		if d := a.st.Decide(c, time.Unix(0, 0)); d.Outcome != domain.Created {
			t.Fatal(d.Err)
		}
	}
}

// TestEvictionWalksNoIDsOnTheOwnersGoroutine: the part of an eviction that
// runs on the processor's goroutine (PlanEviction, then Evict once the
// write is durable) visits no hot id, at a capacity of 1,000 as at one of
// 20,000: its pause does not grow with --hot-ids. Only the write's list
// (Eviction.IDs, on the writer's goroutine) walks, and exactly the
// generation it moves.
func TestEvictionWalksNoIDsOnTheOwnersGoroutine(t *testing.T) {
	for _, capacity := range []int{1_000, 20_000} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			a := &archived{st: domain.NewState(), arch: memArchive{}, capacity: capacity}
			var seq uint64
			openAccount(t, a, &seq)
			postMany(t, a, "fill", capacity, &seq, false) // full, nothing evicted yet
			if a.evicted != 0 {
				t.Fatalf("%d evictions at capacity", a.evicted)
			}
			for round := range 4 {
				postMany(t, a, fmt.Sprint("r", round), capacity/2, &seq, true)
				before := domain.IDsWalked()
				ev, ok := a.st.PlanEviction(capacity)
				planned := domain.IDsWalked()
				if !ok {
					t.Fatalf("round %d: no eviction with %d ids hot, capacity %d", round, a.st.HotIDs(), capacity)
				}
				ids := ev.IDs()
				listed := domain.IDsWalked()
				for _, id := range ids {
					a.arch[id.Key] = id
				}
				hot := a.st.HotIDs()
				evicting := domain.IDsWalked()
				a.st.Evict(ev)
				if after := domain.IDsWalked(); planned != before || after != evicting {
					t.Fatalf("round %d: PlanEviction walked %d ids, Evict %d: want none", round, planned-before, after-evicting)
				}
				if listed-planned != uint64(ev.Len()) || len(ids) != ev.Len() || len(ids) < capacity/2 {
					t.Fatalf("round %d: IDs walked %d ids and listed %d, the generation holds %d", round, listed-planned, len(ids), ev.Len())
				}
				if a.st.HotIDs() != hot-len(ids) || a.st.ArchivedThrough() != ev.Cut || a.st.HotIDs() > capacity {
					t.Fatalf("round %d: %d hot ids after evicting %d of %d, watermark %d (cut %d)",
						round, a.st.HotIDs(), len(ids), hot, a.st.ArchivedThrough(), ev.Cut)
				}
			}
		})
	}
}

// TestArchivedIDsDecideExactlyWhileWriting is TestArchivedIDsDecideExactly
// with the eviction's write on its own goroutine, as the processor does
// it: the plan's ids are listed (Eviction.IDs) while the state decides
// the next batches (new ids, retries recalled from the archive, atomic
// batches that abort, snapshot images), and Evict comes several batches
// later. Run with -race, it also proves that the write reads nothing the
// owner writes. Decisions match a state that keeps every id.
func TestArchivedIDsDecideExactlyWhileWriting(t *testing.T) {
	now := time.Unix(0, 0)
	ref := domain.NewState()
	hot := &archived{st: domain.NewState(), arch: memArchive{}, capacity: 40}
	var cmdSeq uint64
	cmd := func(c domain.Command) domain.Command {
		cmdSeq++
		c.Ref = domain.CommandRef{Seq: cmdSeq}
		return c
	}
	transfer := func(id, amount string) domain.Command {
		return domain.Command{Transfer: &domain.Transfer{ID: id, From: domain.World, To: "a", Amount: amount}}
	}
	for _, c := range []domain.Command{{Asset: &domain.Asset{Code: "USD", Scale: 2}}, {Account: &domain.Account{ID: "a", Asset: "USD"}}} {
		c = cmd(c)
		matchDecision(t, "set-up", hot.st.Decide(c, now), ref.Decide(c, now))
	}
	type write struct {
		ev   domain.Eviction
		ids  chan []domain.PostedID
		left int // batches until the write is durable
	}
	var inFlight *write
	rng := rand.New(rand.NewPCG(3, 4))
	posted, writes := 0, 0
	for step := range 3000 {
		var cs []domain.Command
		for range 1 + rng.IntN(4) {
			switch r := rng.IntN(10); {
			case r < 6 || posted == 0:
				cs = append(cs, cmd(transfer(fmt.Sprint("w-", posted), "1.00")))
				posted++
			case r < 9:
				cs = append(cs, cmd(transfer(fmt.Sprint("w-", rng.IntN(posted)), "1.00")))
			default:
				cs = append(cs, cmd(transfer(fmt.Sprint("w-", rng.IntN(posted)), "0.01"))) // conflicting
			}
		}
		hot.prefetch(cs)
		if step%7 == 0 {
			got, want := hot.st.DecideAtomic(cs, now), ref.DecideAtomic(cs, now)
			for i := range cs {
				matchDecision(t, fmt.Sprintf("step %d atomic %d", step, i), got[i], want[i])
			}
		} else {
			for i, c := range cs {
				matchDecision(t, fmt.Sprintf("step %d item %d", step, i), hot.st.Decide(c, now), ref.Decide(c, now))
			}
		}
		if step%50 == 0 {
			if _, err := hot.st.MarshalBinary(); err != nil {
				t.Fatal(err)
			}
		}
		switch {
		case inFlight == nil:
			if ev, ok := hot.st.PlanEviction(hot.capacity); ok {
				inFlight = &write{ev: ev, ids: make(chan []domain.PostedID, 1), left: 1 + rng.IntN(5)}
				go func(w *write) { w.ids <- w.ev.IDs() }(inFlight)
			}
		case inFlight.left > 0:
			inFlight.left--
		default:
			for _, id := range <-inFlight.ids {
				hot.arch[id.Key] = id
			}
			hot.st.Evict(inFlight.ev)
			inFlight = nil
			writes++
		}
	}
	if writes < 20 || hot.st.ArchivedThrough() == 0 {
		t.Fatalf("%d evictions, watermark %d: the test did not exercise the archive", writes, hot.st.ArchivedThrough())
	}
	if inFlight != nil {
		<-inFlight.ids
	}
}

// TestSnapshotKeepsTwoGenerations: a snapshot of a full hot set loads in
// two generations, split at the median sequence, so that the first
// eviction after a restart moves about half the ids, the older half, and
// the newer half stays hot; every id still decides exactly.
func TestSnapshotKeepsTwoGenerations(t *testing.T) {
	const capacity = 5_000
	a := &archived{st: domain.NewState(), arch: memArchive{}, capacity: capacity}
	var seq uint64
	openAccount(t, a, &seq)
	postMany(t, a, "s", 3*capacity, &seq, false)
	a.st = snapshotRoundTrip(t, a.st)
	loaded, evicted := a.st.HotIDs(), a.evicted
	for i := 0; a.evicted == evicted; i++ {
		postMany(t, a, fmt.Sprint("after-", i), 100, &seq, false)
	}
	// One generation would have been evicted whole: a hundred ids hot.
	if kept := a.st.HotIDs(); kept < loaded*2/5 || kept > capacity {
		t.Fatalf("%d hot ids after the restart's first eviction, %d loaded, capacity %d", kept, loaded, capacity)
	}
	now := time.Unix(0, 0)
	for i := range 3 * capacity {
		if i%97 != 0 {
			continue
		}
		seq++
		c := domain.Command{Ref: domain.CommandRef{Seq: seq}, Transfer: &domain.Transfer{ID: fmt.Sprint("s-", i), From: domain.World, To: "a", Amount: "1"}}
		a.prefetch([]domain.Command{c})
		if d := a.st.Decide(c, now); d.Outcome != domain.Replayed {
			t.Fatalf("s-%d after the restart: %v %v", i, d.Outcome, d.Err)
		}
	}
}
