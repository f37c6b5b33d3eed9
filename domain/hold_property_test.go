package domain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/domain"
)

// holdBooks follows a ledger of one asset (scale 2) from its events
// alone: balances from the entries, holds from the hold events.
type holdBooks struct {
	balance map[string]decimal.Decimal
	floor   map[string]decimal.Decimal // absent: no floor (world)
	holds   map[string]heldTransfer
}

type heldTransfer struct {
	from    string
	amount  decimal.Decimal
	expires time.Time
}

func (b *holdBooks) held(acc string) decimal.Decimal {
	sum := decimal.Zero
	for _, h := range b.holds {
		if h.from == acc {
			sum = sum.Add(h.amount)
		}
	}
	return sum
}

func (b *holdBooks) entries(es ...domain.Entry) error {
	for _, e := range es {
		amt := decimal.RequireFromString(e.Amount)
		if e.Type == domain.Debit {
			amt = amt.Neg()
		}
		b.balance[e.Account] = b.balance[e.Account].Add(amt)
		if got := decimal.RequireFromString(e.Balance); !got.Equal(b.balance[e.Account]) {
			return fmt.Errorf("%s: entry states %s, the books %s", e.Account, e.Balance, b.balance[e.Account])
		}
	}
	return nil
}

func (b *holdBooks) observe(ev *domain.Event) error {
	switch {
	case ev.Transfer != nil:
		return b.entries(ev.Transfer.Entries[:]...)
	case ev.Hold != nil:
		h := heldTransfer{from: ev.Hold.From, amount: decimal.RequireFromString(ev.Hold.Amount)}
		if ev.Hold.ExpiresAt != "" {
			h.expires, _ = time.Parse(time.RFC3339Nano, ev.Hold.ExpiresAt)
		}
		b.holds[ev.Hold.ID] = h
	case ev.HoldPost != nil:
		h, ok := b.holds[ev.HoldPost.ID]
		if !ok || decimal.RequireFromString(ev.HoldPost.Amount).GreaterThan(h.amount) {
			return fmt.Errorf("post of %s: pending %v, %s of %s", ev.HoldPost.ID, ok, ev.HoldPost.Amount, h.amount)
		}
		delete(b.holds, ev.HoldPost.ID)
		return b.entries(ev.HoldPost.Entries[:]...)
	case ev.HoldVoid != nil:
		h, ok := b.holds[ev.HoldVoid.ID]
		if !ok || ev.HoldVoid.Reason == domain.VoidExpired && (h.expires.IsZero() || !ev.Time.After(h.expires)) {
			return fmt.Errorf("void of %s (%s): pending %v, expires %v at %v", ev.HoldVoid.ID, ev.HoldVoid.Reason, ok, h.expires, ev.Time)
		}
		delete(b.holds, ev.HoldVoid.ID)
	}
	return nil
}

// check is the invariants: the asset sums to zero; no account is below
// its floor, nor is its balance less its holds.
func (b *holdBooks) check() error {
	sum := decimal.Zero
	for acc, bal := range b.balance {
		sum = sum.Add(bal)
		floor, limited := b.floor[acc]
		if !limited {
			continue
		}
		if bal.LessThan(floor) {
			return fmt.Errorf("%s: balance %s below %s", acc, bal, floor)
		}
		if avail := bal.Sub(b.held(acc)); avail.LessThan(floor) {
			return fmt.Errorf("%s: available %s below %s", acc, avail, floor)
		}
	}
	if !sum.IsZero() {
		return fmt.Errorf("balances sum to %s", sum)
	}
	return nil
}

// Random mixes of transfers, holds, posts (whole, partial, too much),
// voids, repeats and expiries keep every invariant after every event, and
// the journal replays (and snapshots) to the same state.
func TestHoldProperties(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runHoldProperties(t, seed, 400) })
	}
}

func runHoldProperties(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 7))
	h := newHarness(t)
	h.must(h.asset("USD", 2), domain.Created)
	accounts := []string{"a", "b", "c", "od"}
	books := &holdBooks{balance: map[string]decimal.Decimal{}, floor: map[string]decimal.Decimal{}, holds: map[string]heldTransfer{}}
	for _, id := range accounts {
		limit := "0"
		if id == "od" {
			limit = "20"
		}
		h.must(h.open(domain.Account{ID: id, Asset: "USD", OverdraftLimit: limit}), domain.Created)
		books.floor[id] = decimal.RequireFromString(limit).Neg()
	}
	now := testEpoch
	decide := func(c domain.Command) {
		t.Helper()
		c.Ref = domain.CommandRef{Seq: h.s.LastCommand().Seq + 1}
		now = now.Add(time.Duration(r.IntN(2000)) * time.Millisecond)
		for _, ev := range h.s.ExpireHolds(now) {
			h.events = append(h.events, ev)
			if err := books.observe(ev); err != nil {
				t.Fatal(err)
			}
		}
		d := h.s.Decide(c, now)
		if d.Event != nil {
			h.events = append(h.events, d.Event)
			if err := books.observe(d.Event); err != nil {
				t.Fatalf("%s: %v", describeCommand(c), err)
			}
		}
		if err := books.check(); err != nil {
			t.Fatalf("after %s (%+v): %v", describeCommand(c), d.Err, err)
		}
	}
	amount := func() string { return fmt.Sprintf("%d.%02d", r.IntN(30), r.IntN(100)) }
	pick := func() string { return accounts[r.IntN(len(accounts))] }
	ids := 0
	var holdIDs []string
	for range steps {
		from, to := pick(), pick()
		for to == from {
			to = pick()
		}
		amt := amount()
		if amt == "0.00" {
			amt = "0.01"
		}
		switch n := r.IntN(10); {
		case n == 0:
			decide(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprint("m", ids), From: domain.World, To: to, Amount: amt}})
		case n <= 2:
			decide(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprint("t", ids), From: from, To: to, Amount: amt}})
		case n <= 5:
			tr := &domain.Transfer{ID: fmt.Sprint("h", ids), From: from, To: to, Amount: amt, Pending: true}
			if r.IntN(10) == 0 {
				tr.From = domain.World
			}
			if r.IntN(2) == 0 {
				tr.ExpiresAt = now.Add(time.Duration(1+r.IntN(20000)) * time.Millisecond).Format(time.RFC3339Nano)
			}
			holdIDs = append(holdIDs, tr.ID)
			decide(domain.Command{Transfer: tr})
		case len(holdIDs) > 0:
			a := domain.HoldAction{ID: holdIDs[r.IntN(len(holdIDs))], Action: domain.HoldPost}
			switch r.IntN(3) {
			case 0:
				a.Action = domain.HoldVoid
			case 1:
				a.Amount = amt
			}
			decide(domain.Command{Hold: &a})
		}
		ids++
	}
	// The mix reached every kind of settlement.
	kinds := map[string]int{}
	for _, ev := range h.events {
		switch {
		case ev.Hold != nil:
			kinds["held"]++
		case ev.HoldPost != nil:
			kinds["posted"]++
		case ev.HoldVoid != nil:
			kinds[ev.HoldVoid.Reason]++
		}
	}
	for _, k := range []string{"held", "posted", domain.VoidRequested, domain.VoidExpired} {
		if kinds[k] == 0 {
			t.Fatalf("no hold %s in %v", k, kinds)
		}
	}
	checkReplay(t, h)
}
