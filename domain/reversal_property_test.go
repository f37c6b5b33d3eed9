package domain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/domain"
)

// TestReversalAndTransactionProperties decides random mixes of transfers,
// reversals (partial, full, beyond what remains, by the recipient or a
// stranger) and multi-leg transactions, and checks after every step, from
// the events alone: the balances the entries state sum to zero, no
// account is below its floor, and no transfer's reversals sum above it.
// At the end a replay of the journal and a snapshot decide probes as the
// state did.
func TestReversalAndTransactionProperties(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runReversalProperties(t, seed, 400) })
	}
}

func runReversalProperties(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 23))
	s := domain.NewState()
	var events []*domain.Event
	floors := map[string]decimal.Decimal{"a": decimal.Zero, "b": decimal.Zero, "c": decimal.RequireFromString("-20")}
	owners := []string{"a", "b", "c", "d"}
	balances := map[string]decimal.Decimal{}
	posted := map[string]domain.Transfer{}   // reversible postings, as the read model shows them
	reversed := map[string]decimal.Decimal{} // original id -> sum of its reversals
	var ids []string
	var nReversals, nTransactions, nRefusedLegs int
	seq := uint64(0)
	do := func(c domain.Command) domain.Decision {
		seq++
		c.Ref = domain.CommandRef{Seq: seq}
		d := s.Decide(c, time.Unix(int64(seq), 0))
		if d.Event == nil {
			return d
		}
		events = append(events, d.Event)
		var entries []domain.Entry
		switch ev := d.Event; {
		case ev.Transfer != nil:
			p := ev.Transfer
			entries = p.Entries[:]
			if p.Reverses != "" {
				nReversals++
				reversed[p.Reverses] = reversed[p.Reverses].Add(decimal.RequireFromString(p.Amount))
				if orig := decimal.RequireFromString(posted[p.Reverses].Amount); reversed[p.Reverses].GreaterThan(orig) {
					t.Fatalf("step %d: %s reversed %s of %s", seq, p.Reverses, reversed[p.Reverses], orig)
				}
			} else if !p.Memo {
				posted[p.ID] = p.Transfer
				ids = append(ids, p.ID)
			}
		case ev.TransactionRejection != nil:
			nRefusedLegs++
		case ev.Transaction != nil:
			nTransactions++
			for _, l := range ev.Transaction.Legs {
				entries = append(entries, l.Entries[:]...)
			}
		}
		for _, e := range entries {
			balances[e.Account] = decimal.RequireFromString(e.Balance)
		}
		sum := decimal.Zero
		for id, b := range balances {
			sum = sum.Add(b)
			if f, ok := floors[id]; ok && b.LessThan(f) {
				t.Fatalf("step %d: %s at %s, below %s", seq, id, b, f)
			}
		}
		if !sum.IsZero() {
			t.Fatalf("step %d: the balances sum to %s", seq, sum)
		}
		return d
	}
	do(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	for _, a := range []domain.Account{{ID: "a", Asset: "USD", Owner: "a"}, {ID: "b", Asset: "USD", Owner: "b"},
		{ID: "c", Asset: "USD", Owner: "c", OverdraftLimit: "20"}, {ID: "d", Asset: "USD", Owner: "d", OverdraftLimit: domain.Unlimited}} {
		do(domain.Command{Account: &a})
	}
	accounts := []string{domain.World, "a", "b", "c", "d"}
	amount := func() string { return decimal.New(r.Int64N(5000)+1, -2).StringFixed(2) }
	actor := func() *domain.Actor {
		if r.IntN(3) == 0 {
			return nil // the ledger itself
		}
		return &domain.Actor{Subject: owners[r.IntN(len(owners))]}
	}
	for step := range steps {
		switch k := r.IntN(10); {
		case k < 4 || len(ids) == 0:
			from, to := accounts[r.IntN(len(accounts))], accounts[r.IntN(len(accounts))]
			do(domain.Command{Actor: actor(), Transfer: &domain.Transfer{ID: fmt.Sprintf("t%d", step), From: from, To: to, Amount: amount()}})
		case k < 7:
			orig := posted[ids[r.IntN(len(ids))]]
			rv := domain.Reversal{ID: fmt.Sprintf("r%d", step), Original: orig}
			if r.IntN(2) == 0 {
				rv.Amount = amount()
			}
			if r.IntN(8) == 0 { // a retry of an earlier id
				rv.ID = fmt.Sprintf("r%d", r.IntN(step+1))
			}
			do(domain.Command{Actor: actor(), Reversal: &rv})
		default:
			tx := domain.Transaction{ID: fmt.Sprintf("x%d", step)}
			for range r.IntN(4) + 1 {
				tx.Legs = append(tx.Legs, domain.Leg{From: accounts[r.IntN(len(accounts))], To: accounts[r.IntN(len(accounts))], Amount: amount()})
			}
			do(domain.Command{Actor: actor(), Transaction: &tx})
		}
	}
	if nReversals == 0 || nTransactions == 0 || nRefusedLegs == 0 {
		t.Fatalf("the mix posted %d reversals, %d transactions and refused %d: not a test of them", nReversals, nTransactions, nRefusedLegs)
	}
	rebuilt := domain.NewState()
	for _, ev := range events {
		if err := rebuilt.Apply(ev); err != nil {
			t.Fatalf("Apply(%d): %v", ev.Seq, err)
		}
	}
	snap, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var loaded domain.State
	if err := loaded.UnmarshalBinary(snap); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		c := domain.Command{Ref: domain.CommandRef{Seq: 1_000_000 + uint64(i)}}
		if len(ids) > 0 && i%2 == 0 {
			rv := domain.Reversal{ID: fmt.Sprintf("r%d", r.IntN(steps)), Original: posted[ids[r.IntN(len(ids))]]}
			if r.IntN(2) == 0 {
				rv.Amount = amount()
			}
			c.Reversal = &rv
		} else {
			c.Transaction = &domain.Transaction{ID: fmt.Sprintf("x%d", r.IntN(steps)), Legs: []domain.Leg{{From: "a", To: "b", Amount: amount()}}}
		}
		want := s.Decide(c, testEpoch)
		for name, st := range map[string]*domain.State{"replayed": rebuilt, "snapshot": &loaded} {
			if got := st.Decide(c, testEpoch); !sameDecision(got, want) {
				t.Fatalf("probe %d: %s decided %+v (%v), the state %+v (%v)", i, name, got, got.Err, want, want.Err)
			}
		}
	}
}
