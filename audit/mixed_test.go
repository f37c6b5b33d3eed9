package audit_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
)

// mix draws random commands of every kind against a small ledger: plain
// and cross-currency transfers, holds placed, posted (in part) and voided
// or left to expire, reversals (full, partial, too much, of reversals),
// multi-leg transactions, freezes, unfreezes, closes and limit changes,
// some from a non-admin actor, some reusing an id.
type mix struct {
	rng      *rand.Rand
	l        *ledger
	n        int
	accounts map[string]string // id -> asset
	posted   []domain.Transfer // plain transfers posted, for reversals
	holds    []string          // holds placed
	ids      []string          // every id used
	sent     []domain.Command  // every command drawn
}

var mixAlice = &domain.Actor{Subject: "alice"}

func (m *mix) id(prefix string) string {
	if len(m.ids) > 0 && m.rng.IntN(10) == 0 {
		return m.ids[m.rng.IntN(len(m.ids))] // a retry or a conflicting reuse
	}
	m.n++
	id := fmt.Sprintf("%s-%d", prefix, m.n)
	m.ids = append(m.ids, id)
	return id
}

func (m *mix) account(asset string) string {
	var ids []string
	for id, a := range m.accounts {
		if asset == "" || a == asset {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids[m.rng.IntN(len(ids))]
}

func (m *mix) amount() string { return fmt.Sprintf("%d.%02d", m.rng.IntN(40), 1+m.rng.IntN(99)) }

func (m *mix) command() domain.Command {
	r := m.rng
	var actor *domain.Actor
	if r.IntN(5) == 0 {
		actor = mixAlice
	}
	if len(m.sent) > 0 && r.IntN(12) == 0 {
		return m.sent[r.IntN(len(m.sent))] // the same request again: replayed, or refused again
	}
	c := m.draw(actor)
	m.sent = append(m.sent, c)
	return c
}

func (m *mix) draw(actor *domain.Actor) domain.Command {
	r := m.rng
	switch k := r.IntN(100); {
	case k < 30:
		from, to := m.account("USD"), m.account("")
		return domain.Command{Actor: actor, Transfer: &domain.Transfer{ID: m.id("t"), From: from, To: to, Amount: m.amount()}}
	case k < 42:
		expires := ""
		if r.IntN(2) == 0 {
			expires = minute(m.l.Now + 1 + r.IntN(4)).Add(30 * 1e9).Format("2006-01-02T15:04:05Z")
		}
		from, to := m.account("USD"), m.account("USD")
		return domain.Command{Actor: actor, Transfer: &domain.Transfer{ID: m.id("h"), From: from, To: to, Amount: m.amount(),
			Pending: true, ExpiresAt: expires}}
	case k < 54 && len(m.holds) > 0:
		a := domain.HoldAction{ID: m.holds[r.IntN(len(m.holds))], Action: domain.HoldPost}
		switch r.IntN(3) {
		case 0:
			a.Action = domain.HoldVoid
		case 1:
			a.Amount = fmt.Sprintf("%d.%02d", r.IntN(10), r.IntN(100))
		}
		return domain.Command{Actor: actor, Hold: &a}
	case k < 66 && len(m.posted) > 0:
		rv := domain.Reversal{ID: m.id("rv"), Original: m.posted[r.IntN(len(m.posted))]}
		if r.IntN(2) == 0 {
			rv.Amount = fmt.Sprintf("%d.%02d", r.IntN(20), r.IntN(100))
		}
		return domain.Command{Actor: actor, Reversal: &rv}
	case k < 88:
		legs := make([]domain.Leg, 1+r.IntN(3))
		for i := range legs {
			legs[i] = domain.Leg{From: m.account("USD"), To: m.account("USD"), Amount: m.amount()}
		}
		return domain.Command{Actor: actor, Transaction: &domain.Transaction{ID: m.id("tx"), Legs: legs}}
	default:
		acc := m.account("")
		lc := domain.LifecycleRequest{AccountChange: domain.AccountChange{Account: acc}}
		switch k := r.IntN(20); {
		case k < 5:
			lc.Action, lc.Frozen = domain.ActionFreeze, domain.FrozenDebits
		case k < 7:
			lc.Action, lc.Frozen = domain.ActionFreeze, domain.FrozenAll
		case k < 15:
			lc.Action = domain.ActionUnfreeze
		case k < 18:
			lc.Action, lc.OverdraftLimit = domain.ActionLimit, fmt.Sprint(r.IntN(100))
		default:
			lc.Action = domain.ActionClose // refused while it holds anything
		}
		return domain.Command{Actor: actor, Lifecycle: &lc}
	}
}

// note remembers what later commands may refer to.
func (m *mix) note(ev *domain.Event) {
	switch {
	case ev.Transfer != nil: // reversals too: reversing one is refused
		m.posted = append(m.posted, ev.Transfer.Transfer)
	case ev.Hold != nil:
		m.holds = append(m.holds, ev.Hold.ID)
	}
}

// Random mixes of every command kind, written to a real journal as the
// processor writes it, pass the audit (an independent model of the books:
// every asset sums to zero, no balance below its floor nor its available
// balance, holds, reversals, transactions and the lifecycle followed),
// and a state rebuilt from the journal's events is byte for byte the
// state that decided them.
func TestAuditAcceptsRandomMixesOfEveryCommand(t *testing.T) {
	for seed := range 3 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			l := newLedger(t)
			m := &mix{rng: rand.New(rand.NewPCG(uint64(seed), 99)), l: l, accounts: map[string]string{}}
			setup := []domain.Command{
				{Asset: &domain.Asset{Code: "USD", Scale: 2}}, {Asset: &domain.Asset{Code: "EUR", Scale: 2}},
				{Rate: &domain.RateSet{Base: "USD", Quote: "EUR", Rate: "0.9"}},
			}
			for _, a := range []struct{ id, asset, owner, limit string }{
				{"alice", "USD", "alice", ""}, {"bob", "USD", "bob", ""}, {"carol", "USD", "", "50"},
				{"dave", "USD", "", ""}, {"erin", "EUR", "", ""},
			} {
				m.accounts[a.id] = a.asset
				setup = append(setup, domain.Command{Account: &domain.Account{ID: a.id, Asset: a.asset, Owner: a.owner, OverdraftLimit: a.limit}})
			}
			for _, id := range []string{"alice", "bob", "dave"} {
				setup = append(setup, domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: domain.World, To: id, Amount: "200"}})
			}
			l.Batch(setup...)
			seen := map[domain.Outcome]int{}
			for range 120 {
				cmds := make([]domain.Command, 1+m.rng.IntN(4))
				for i := range cmds {
					cmds[i] = m.command()
				}
				for _, d := range l.Batch(cmds...) {
					seen[d.Outcome]++
					if d.Event != nil {
						m.note(d.Event)
					}
				}
				if m.rng.IntN(4) == 0 {
					l.Idle() // time passes: holds expire at the next batch
				}
			}
			types := map[domain.EventType]int{}
			for _, ev := range l.Events {
				types[ev.Type]++
			}
			for _, want := range []domain.EventType{domain.EventTransferPosted, domain.EventTransferRejected, domain.EventTransferConverted,
				domain.EventTransferPending, domain.EventHoldPosted, domain.EventHoldVoided, domain.EventTransactionPosted,
				domain.EventTransactionRejected, domain.EventAccountFrozen, domain.EventAccountUnfrozen, domain.EventAccountLimitChanged} {
				if types[want] == 0 {
					t.Errorf("no %s in the mix (%v): draw more", want, types)
				}
			}
			reversals := 0
			for _, ev := range l.Events {
				if ev.Transfer != nil && ev.Transfer.Reversal != nil {
					reversals++
				}
			}
			if reversals == 0 {
				t.Errorf("no reversal posted in the mix")
			}
			if seen[domain.Replayed] == 0 {
				t.Errorf("no replay in the mix: %v", seen)
			}
			mustOK(t, run(t, l.source(), audit.Options{}).Report)
			// The read model replayed from the journal agrees with the books.
			mustAgreeWithReplayedReadModel(t, l)

			rebuilt := domain.NewState()
			for _, ev := range l.Events {
				if err := rebuilt.Apply(ev); err != nil {
					t.Fatalf("apply %d %s: %v", ev.Seq, ev.Type, err)
				}
			}
			var want, got bytes.Buffer
			if _, err := l.W.State.Image().WriteTo(&want); err != nil {
				t.Fatal(err)
			}
			if _, err := rebuilt.Image().WriteTo(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want.Bytes(), got.Bytes()) {
				t.Fatal("the state rebuilt from the journal differs from the state that decided it")
			}
			t.Logf("%d events: %v; refused: %v", len(l.Events), types, rejectionCodes(l.Events))
		})
	}
}

func rejectionCodes(evs []*domain.Event) map[domain.Code]int {
	out := map[domain.Code]int{}
	for _, ev := range evs {
		if ev.Rejection != nil {
			out[ev.Rejection.Code]++
		}
		if ev.TransactionRejection != nil {
			out[ev.TransactionRejection.Code]++
		}
	}
	return out
}
