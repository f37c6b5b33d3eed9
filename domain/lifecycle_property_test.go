package domain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/domain"
)

// lifeModel follows the journal's events alone: balances, floors and
// statuses, for the lifecycle's invariants.
type lifeModel struct {
	asset   map[string]string // account -> asset
	balance map[string]decimal.Decimal
	floor   map[string]*decimal.Decimal // nil: unlimited
	status  map[string]string           // "", "debits", "all", "closed"
}

func (m *lifeModel) key(account, asset string) string {
	if account == domain.World || account == domain.FX {
		return account + "/" + asset
	}
	return account
}

// observe checks ev against the statuses before it and applies it.
func (m *lifeModel) observe(ev *domain.Event) error {
	switch {
	case ev.Account != nil:
		a := ev.Account
		m.asset[a.ID] = a.Asset
		m.setFloor(a.ID, a.OverdraftLimit)
	case ev.Change != nil:
		c := ev.Change
		if m.status[c.Account] == "closed" {
			return fmt.Errorf("%s of closed account %s", ev.Type, c.Account)
		}
		switch ev.Type {
		case domain.EventAccountLimitChanged:
			m.setFloor(c.Account, c.OverdraftLimit)
		case domain.EventAccountFrozen:
			m.status[c.Account] = c.Frozen
		case domain.EventAccountUnfrozen:
			m.status[c.Account] = ""
		case domain.EventAccountClosed:
			if !m.balance[c.Account].IsZero() {
				return fmt.Errorf("account %s closed at %s", c.Account, m.balance[c.Account])
			}
			m.status[c.Account] = "closed"
		}
	case ev.Transfer != nil:
		return m.move(ev.Transfer.Transfer, ev.Transfer.Entries[:])
	case ev.Conversion != nil:
		return m.move(ev.Conversion.Transfer, ev.Conversion.Entries[:])
	}
	return nil
}

func (m *lifeModel) setFloor(id, limit string) {
	if limit == domain.Unlimited {
		m.floor[id] = nil
		return
	}
	f := decimal.RequireFromString(limit).Neg()
	m.floor[id] = &f
}

func (m *lifeModel) move(t domain.Transfer, entries []domain.Entry) error {
	if st := m.status[t.From]; st != "" {
		return fmt.Errorf("transfer %s debits %s, which is %s", t.ID, t.From, st)
	}
	if st := m.status[t.To]; st == domain.FrozenAll || st == "closed" {
		return fmt.Errorf("transfer %s credits %s, which is %s", t.ID, t.To, st)
	}
	for i, e := range entries {
		asset := t.Asset
		if i >= len(entries)/2 && len(entries) == 4 {
			asset = m.asset[t.To]
		}
		k := m.key(e.Account, asset)
		amount := decimal.RequireFromString(e.Amount)
		if e.Type == domain.Debit {
			amount = amount.Neg()
		}
		m.balance[k] = m.balance[k].Add(amount)
		if !m.balance[k].Equal(decimal.RequireFromString(e.Balance)) {
			return fmt.Errorf("entry %d of %s states %s, recomputed %s", i, t.ID, e.Balance, m.balance[k])
		}
	}
	return nil
}

// check is every invariant: each asset sums to zero, no account is below
// its floor.
func (m *lifeModel) check() error {
	sums := map[string]decimal.Decimal{}
	for k, v := range m.balance {
		asset, ok := m.asset[k]
		if !ok {
			asset = k[len(k)-3:] // world/USD, fx/EUR
		} else if f := m.floor[k]; f != nil && v.LessThan(*f) {
			return fmt.Errorf("account %s at %s, below its floor %s", k, v, f)
		}
		sums[asset] = sums[asset].Add(v)
	}
	for asset, s := range sums {
		if !s.IsZero() {
			return fmt.Errorf("asset %s sums to %s", asset, s)
		}
	}
	return nil
}

// Random mixes of transfers (mints, burns, conversions), freezes,
// unfreezes, closes and limit changes, by admins and owners, keep every
// invariant after every step: no debit of a frozen account, nothing on a
// closed one, each asset summing to zero, no balance below its floor; and
// the state rebuilt from the journal or a snapshot equals the one decided.
func TestLifecycleProperties(t *testing.T) {
	seen := map[string]int{}
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { lifecycleRun(t, seed, 400, seen) })
	}
	// The mix reached every case it is meant to check.
	for _, want := range []string{string(domain.EventAccountFrozen), string(domain.EventAccountUnfrozen), string(domain.EventAccountClosed),
		string(domain.EventAccountLimitChanged), string(domain.EventTransferConverted), string(domain.CodeAccountFrozen),
		string(domain.CodeAccountClosed), string(domain.CodeLimitInUse), string(domain.CodeAccountNotEmpty)} {
		if seen[want] == 0 {
			t.Errorf("no %s in any run", want)
		}
	}
}

func lifecycleRun(t *testing.T, seed uint64, steps int, seen map[string]int) {
	r := rand.New(rand.NewPCG(seed, 24))
	h := newHarness(t)
	h.must(h.asset("USD", 2), domain.Created)
	h.must(h.asset("EUR", 2), domain.Created)
	h.must(h.do(domain.Command{Rate: &domain.RateSet{Base: "USD", Quote: "EUR", Rate: "0.9"}}), domain.Updated)
	h.must(h.do(domain.Command{Rate: &domain.RateSet{Base: "EUR", Quote: "USD", Rate: "1.1"}}), domain.Updated)
	ids := []string{"a", "b", "c", "d", "e", "f"}
	for i, id := range ids {
		asset := []string{"USD", "EUR"}[i%2]
		h.must(h.open(domain.Account{ID: id, Asset: asset, Owner: "u-" + id, OverdraftLimit: []string{"", "5", "unlimited"}[i%3]}), domain.Created)
	}
	m := &lifeModel{asset: map[string]string{}, balance: map[string]decimal.Decimal{}, floor: map[string]*decimal.Decimal{}, status: map[string]string{}}
	for _, ev := range h.events {
		if err := m.observe(ev); err != nil {
			t.Fatal(err)
		}
	}
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	amount := func() string { return fmt.Sprintf("%d.%02d", r.IntN(20), r.IntN(100)) }
	for step := range steps {
		var c domain.Command
		who := []*domain.Actor{nil, adminActor, {Subject: "u-" + pick(ids)}}[r.IntN(3)]
		switch n := r.IntN(10); {
		case n < 5:
			from, to := pick(append(ids, domain.World)), pick(append(ids, domain.World))
			if from == to {
				to = pick(ids)
			}
			if from == to {
				continue
			}
			asset := ""
			if from == domain.World && to == domain.World {
				continue
			}
			if from == domain.World {
				asset = m.asset[to]
			} else if to == domain.World {
				asset = m.asset[from]
			}
			c = domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("t%d", step), From: from, To: to, Amount: amount(), Asset: asset}}
		case n < 6:
			c = lifecycleCmd(who, domain.ActionFreeze, pick(ids), pick([]string{domain.FrozenDebits, domain.FrozenAll}), "")
		case n < 7:
			c = lifecycleCmd(who, domain.ActionUnfreeze, pick(ids), "", "")
		case n < 8:
			c = lifecycleCmd(who, domain.ActionClose, pick(ids), "", "")
		default:
			c = lifecycleCmd(who, domain.ActionLimit, pick(ids), "", pick([]string{"0", "1.50", "10", "unlimited", amount()}))
		}
		if c.Transfer != nil {
			c.Actor = who
		}
		before := len(h.events)
		if d := h.do(c); d.Err != nil {
			seen[string(d.Err.Code())]++
		}
		for _, ev := range h.events[before:] {
			seen[string(ev.Type)]++
			if err := m.observe(ev); err != nil {
				t.Fatalf("step %d, event %d: %v", step, ev.Seq, err)
			}
		}
		if err := m.check(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	snap, err := h.s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	rebuilt := domain.NewState()
	for _, ev := range h.events {
		if err := rebuilt.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	restored := domain.NewState()
	if err := restored.UnmarshalBinary(snap); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*domain.State{rebuilt, restored} {
		if again, err := st.MarshalBinary(); err != nil || string(again) != string(snap) {
			t.Fatalf("rebuilt state differs (err %v)", err)
		}
	}
}
