package audit

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// TestStateBothAgreesWithState: Books.post's short path for a posting's
// two entries (stateBoth) leaves the books, the formatted balances after
// and the findings exactly as state entry by entry does, on random
// accounts: balances and stated balances that agree or not, drifted or
// not, stated balances after that are the recomputed ones or not, at the
// asset's scale or not, amounts of a memo (zero) and large ones, an
// asset's sum of stated balances near the 128-bit minimum (where -amount
// overflows it), one account on both sides, and the compact and event
// paths. It fails if stateBoth took a posting whose outcome differs.
func TestStateBothAgreesWithState(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 11))
	const maxDigits = "99999999999999999999999999999999999999" // 10³⁸-1, the most digits a literal takes
	huge, err := domain.ParseBalance("-"+maxDigits, 0)
	if err != nil {
		t.Fatal(err)
	}
	amountOf := func() domain.Amount {
		switch rng.IntN(6) {
		case 0:
			return domain.Amount{}
		case 1:
			a, _ := domain.ParseAmount(maxDigits[:1+rng.IntN(len(maxDigits)-1)], 0)
			return a
		case 2:
			a, _ := domain.ParseAmount(maxDigits, 0)
			return a
		}
		return domain.AmountFromInt64(rng.Int64N(1_000_000))
	}
	small := func(r *rand.Rand) domain.Amount { return domain.AmountFromInt64(r.Int64N(2_000_000) - 1_000_000) }
	taken := 0
	for round := range 20_000 {
		var runs [2]struct {
			b        *Books
			from, to *accountBook
			found    []Finding
		}
		seed := rng.Uint64()
		for k := range runs {
			r := rand.New(rand.NewPCG(seed, 1))
			run := &runs[k]
			run.b = newBooks(func(f Finding) { run.found = append(run.found, f) }, 0)
			as := &assetBook{code: "EUR", scale: int(r.IntN(2)) * 2}
			if r.IntN(4) == 0 {
				as.stated = huge // the sum near its minimum
			} else {
				as.stated = domain.AmountFromInt64(r.Int64N(1000))
			}
			run.from = &accountBook{asset: as, id: "a", status: bookOpen, unlimited: true}
			run.to = &accountBook{asset: as, id: "b", status: bookOpen, unlimited: true}
			if r.IntN(10) == 0 {
				run.to = run.from
			}
			for _, acc := range []*accountBook{run.from, run.to} {
				acc.balance = small(r)
				acc.stated = acc.balance
				if r.IntN(5) == 0 {
					acc.stated = small(r)
				}
				if r.IntN(5) == 0 {
					acc.setDrift(small(r))
				}
			}
		}
		// The same draws for both runs: the posting.
		amount := amountOf()
		ev := &domain.Event{Seq: uint64(round + 1), Type: domain.EventTransferPosted,
			Transfer: &domain.PostedTransfer{Transfer: domain.Transfer{ID: "t" + strconv.Itoa(round), From: "a", To: "b", Asset: "EUR"}}}
		n := &numbers{ok: rng.IntN(20) != 0, hashed: true}
		compact := rng.IntN(2) == 0
		after := [2]string{"", "0"}
		if rng.IntN(3) == 0 {
			after = [2]string{"x", ""}
		}
		places := [2]int8{int8(runs[0].from.asset.scale), int8(runs[0].from.asset.scale)}
		offs := [2]bool{rng.IntN(8) == 0, rng.IntN(8) == 0}
		for i := range places {
			if rng.IntN(10) == 0 {
				places[i] = 3
			}
		}
		for k := range runs {
			run := &runs[k]
			b, from, to := run.b, run.from, run.to
			b.after = after
			settled := from.stated == from.balance && to.stated == to.balance
			fromAfter, ok1 := from.balance.Sub(amount)
			toAfter, ok2 := to.balance.Add(amount)
			if !ok1 || !ok2 {
				continue
			}
			from.balance, to.balance = fromAfter, toAfter
			nk := *n
			nk.places[1], nk.places[2] = places[0], places[1]
			nk.after = [2]domain.Amount{from.balance, to.balance}
			for i, off := range offs {
				if off {
					nk.after[i], _ = nk.after[i].Add(domain.AmountFromInt64(1))
				}
			}
			for i := range ev.Transfer.Entries {
				ev.Transfer.Entries[i].Balance = nk.after[i].Format(int(nk.places[1+i]))
			}
			p := posting{seq: ev.Seq, n: &nk, ev: ev}
			if compact {
				p.ev, p.lazy = nil, &lazyEvent{ev: ev}
			}
			if k == 0 && settled && b.stateBoth(&p, from, to, amount) {
				taken++
				continue
			}
			b.state(&p, 0, from)
			b.state(&p, 1, to)
		}
		a, z := &runs[0], &runs[1]
		if !reflect.DeepEqual(*a.from, *z.from) || !reflect.DeepEqual(*a.to, *z.to) ||
			!reflect.DeepEqual(*a.from.asset, *z.from.asset) || a.b.after != z.b.after || !reflect.DeepEqual(a.found, z.found) {
			t.Fatalf("round %d (amount %v): stateBoth left\n%+v %+v %+v %q %v\nstate left\n%+v %+v %+v %q %v", round, amount,
				*a.from, *a.to, *a.from.asset, a.b.after, a.found, *z.from, *z.to, *z.from.asset, z.b.after, z.found)
		}
	}
	if taken < 1000 {
		t.Fatalf("stateBoth took %d postings of 20,000: the test draws too few of its case", taken)
	}
}
