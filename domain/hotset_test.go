package domain_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// memArchive is the archive of posted ids the processor keeps on disk,
// held in a map for the domain's tests.
type memArchive map[[16]byte]domain.PostedID

// archived is a state with a tiny hot set in front of a memArchive,
// driven as the processor drives it: prefetch before each batch, evict
// after it.
type archived struct {
	st       *domain.State
	arch     memArchive
	capacity int
	evicted  int
}

// prefetch looks up in the archive what cmds need and is not hot.
func (a *archived) prefetch(cmds []domain.Command) {
	var found []domain.PostedID
	var absent [][16]byte
	for _, k := range a.st.Unchecked(cmds, nil) {
		if id, ok := a.arch[k]; ok {
			found = append(found, id)
		} else {
			absent = append(absent, k)
		}
	}
	a.st.Prefetched(found, absent)
}

// evict moves the oldest hot ids to the archive when over capacity.
func (a *archived) evict() {
	ev, ok := a.st.PlanEviction(a.capacity)
	if !ok {
		return
	}
	for _, id := range ev.IDs() {
		a.arch[id.Key] = id
	}
	a.st.Evict(ev)
	a.evicted++
}

func (a *archived) decide(c domain.Command, now time.Time) domain.Decision {
	a.prefetch([]domain.Command{c})
	d := a.st.Decide(c, now)
	a.evict()
	return d
}

func (a *archived) decideAtomic(cs []domain.Command, now time.Time) []domain.Decision {
	a.prefetch(cs)
	ds := a.st.DecideAtomic(cs, now)
	a.evict()
	return ds
}

// matchDecision fails unless got is what want says: the same outcome,
// event sequence, replayed sequence and error code.
func matchDecision(t *testing.T, step string, got, want domain.Decision) {
	t.Helper()
	code := func(d domain.Decision) domain.Code {
		if d.Err == nil {
			return ""
		}
		return d.Err.Code()
	}
	seq := func(d domain.Decision) uint64 {
		if d.Event == nil {
			return 0
		}
		return d.Event.Seq
	}
	if got.Outcome != want.Outcome || got.ReplayOf != want.ReplayOf || code(got) != code(want) || seq(got) != seq(want) {
		t.Fatalf("%s: got %v replay of %d code %q event %d; all in memory: %v replay of %d code %q event %d",
			step, got.Outcome, got.ReplayOf, code(got), seq(got), want.Outcome, want.ReplayOf, code(want), seq(want))
	}
}

// TestArchivedIDsDecideExactly runs random transfers, retries of old ids
// (same body and conflicting), and atomic batches, some of which abort,
// on a state that keeps at most 16 ids in memory and on one that keeps
// all of them, and requires the same decisions from both: an id posted
// long ago and evicted replays with its original sequence, a conflicting
// body is still idempotency_conflict, and an aborted atomic batch posts
// nothing. Halfway, the small state goes through a snapshot.
func TestArchivedIDsDecideExactly(t *testing.T) {
	now := time.Unix(0, 0)
	ref := domain.NewState()
	hot := &archived{st: domain.NewState(), arch: memArchive{}, capacity: 16}
	cmdSeq := uint64(0)
	cmd := func(c domain.Command) domain.Command {
		cmdSeq++
		c.Ref = domain.CommandRef{Seq: cmdSeq}
		return c
	}
	both := func(step string, c domain.Command) {
		t.Helper()
		c = cmd(c)
		matchDecision(t, step, hot.decide(c, now), ref.Decide(c, now))
	}
	both("asset", domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	accounts := []string{"a", "b", "c"}
	for _, id := range accounts {
		both("open "+id, domain.Command{Account: &domain.Account{ID: id, Asset: "USD"}})
		both("fund "+id, domain.Command{Transfer: &domain.Transfer{ID: "fund-" + id, From: domain.World, To: id, Amount: "1000.00"}})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type sent struct{ id, from, to, amount string }
	var history []sent
	transfer := func(s sent) domain.Command {
		return domain.Command{Transfer: &domain.Transfer{ID: s.id, From: s.from, To: s.to, Amount: s.amount}}
	}
	fresh := func(i int) sent {
		from, to := accounts[rng.IntN(3)], accounts[rng.IntN(3)]
		if from == to {
			to = domain.World
		}
		return sent{fmt.Sprintf("t-%d", i), from, to, fmt.Sprintf("%d.%02d", rng.IntN(30), rng.IntN(100))}
	}
	const steps = 3000
	for i := range steps {
		if i == steps/2 {
			hot.st = snapshotRoundTrip(t, hot.st)
		}
		step := fmt.Sprintf("step %d", i)
		switch r := rng.IntN(10); {
		case r < 5 || len(history) == 0:
			s := fresh(i)
			history = append(history, s)
			both(step+" new "+s.id, transfer(s))
		case r < 7:
			s := history[rng.IntN(len(history))]
			both(step+" retry "+s.id, transfer(s))
		case r < 8:
			s := history[rng.IntN(len(history))]
			s.amount = "0.01"
			both(step+" conflicting "+s.id, transfer(s))
		default:
			// An atomic batch of a new transfer, an old id retried and a
			// third that is new or, often, more than any balance holds.
			a, b := fresh(i), fresh(i+steps)
			if r == 9 {
				b.amount = "99999.00"
			}
			old := history[rng.IntN(len(history))]
			cs := []domain.Command{cmd(transfer(a)), cmd(transfer(old)), cmd(transfer(b))}
			got, want := hot.decideAtomic(cs, now), ref.DecideAtomic(cs, now)
			for j := range cs {
				matchDecision(t, fmt.Sprintf("%s atomic item %d", step, j), got[j], want[j])
			}
			if want[0].Outcome == domain.Posted {
				history = append(history, a, b)
			} else {
				history = append(history, a) // rejected: its id is still free, and so tried again
			}
		}
		if n := hot.st.HotIDs(); n > hot.capacity+3 {
			t.Fatalf("step %d: %d ids in memory, capacity %d", i, n, hot.capacity)
		}
	}
	if hot.evicted < 100 || hot.st.ArchivedThrough() == 0 {
		t.Fatalf("%d evictions, watermark %d: the test did not exercise the archive", hot.evicted, hot.st.ArchivedThrough())
	}
	if hot.st.Seq() != ref.Seq() {
		t.Fatalf("sequence %d, all in memory %d", hot.st.Seq(), ref.Seq())
	}
}

// snapshotRoundTrip encodes st and decodes it into a new state.
func snapshotRoundTrip(t *testing.T, st *domain.State) *domain.State {
	t.Helper()
	data, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back := new(domain.State)
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if back.ArchivedThrough() != st.ArchivedThrough() || back.HotIDs() != st.HotIDs() {
		t.Fatalf("snapshot: watermark %d, %d hot ids; was %d, %d", back.ArchivedThrough(), back.HotIDs(), st.ArchivedThrough(), st.HotIDs())
	}
	return back
}

// TestUncheckedIDPanics: once ids are archived, deciding a transfer whose
// id was not looked up in the archive is refused loudly, never decided as
// new.
func TestUncheckedIDPanics(t *testing.T) {
	now := time.Unix(0, 0)
	a := &archived{st: domain.NewState(), arch: memArchive{}, capacity: 2}
	a.decide(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}}, now)
	a.decide(domain.Command{Account: &domain.Account{ID: "a", Asset: "USD"}}, now)
	for i := range 4 {
		if d := a.decide(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprint("m-", i), From: domain.World, To: "a", Amount: "1"}}, now); d.Outcome != domain.Posted {
			t.Fatalf("m-%d: %+v", i, d)
		}
	}
	if a.st.ArchivedThrough() == 0 {
		t.Fatal("nothing archived")
	}
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, "not in memory and was not looked up") {
			t.Fatalf("recovered %v, want the unchecked-id panic", r)
		}
	}()
	a.st.Decide(domain.Command{Transfer: &domain.Transfer{ID: "m-0", From: domain.World, To: "a", Amount: "1"}}, now)
	t.Fatal("decided an id that was never looked up")
}
