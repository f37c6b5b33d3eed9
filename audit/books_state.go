package audit

import (
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// state compares entry i's balance after with the recomputed one and
// keeps the stated balance for the zero-sum check. A difference is
// reported where it appears or changes, not at every later entry of the
// account it carries over to.
func (b *Books) state(p *posting, i int, acc *accountBook) {
	n := p.n
	if stated := n.after[i]; n.ok && int(n.places[1+i]) == acc.asset.scale && stated == acc.balance {
		// What nearly every entry is, and stateFound's outcome for it: the
		// balance stated as recomputed, read at the asset's scale, so no
		// finding and no drift.
		if p.lazy == nil { // the event path's
			b.after[i] = p.ev.Transfer.Entries[i].Balance
		} else if b.after[i] != "" {
			b.after[i] = "" // a compact posting's: see Books.after; written only to change it
		}
		if acc.drifted { // the drift is on the book's second line: left unread when zero
			acc.setDrift(domain.Amount{})
		}
		acc.restate(stated)
		return
	}
	b.stateFound(p, i, acc)
}

// stateBoth is state of both entries of a posting of amount from one
// account to another whose last entries stated their balances before it
// (the caller checks that: from.stated and to.stated were from.balance
// and to.balance before the posting moved them), when both entries state
// the recomputed balances after, read at the asset's scale, and neither
// account had drifted: what nearly every posting is. It returns false,
// having changed nothing, for any other posting, which state then takes
// entry by entry.
//
// For such a posting state's outcome is known without its arithmetic:
// no finding, no drift, each stated balance the recomputed one, and the
// asset's sum of stated balances moved by -amount (from's entry: its
// stated balance from.balance-amount over from.balance) and then by
// +amount (to's), so left as it was. That holds only where neither step
// overflows (Amount.Add gives zero on overflow): the amount is not
// negative, so -amount is exact, and sum - amount is checked to be in
// range, after which sum - amount + amount is the sum again. from and to
// must be two accounts (a posting to itself is state's, entry by entry).
func (b *Books) stateBoth(p *posting, from, to *accountBook, amount domain.Amount) bool {
	n := p.n
	scale := from.asset.scale
	if !n.ok || int(n.places[1]) != scale || int(n.places[2]) != scale ||
		n.after[0] != from.balance || n.after[1] != to.balance || from.drifted || to.drifted || from == to ||
		amount.Sign() < 0 {
		return false
	}
	if _, ok := from.asset.stated.Sub(amount); !ok {
		return false
	}
	for i := range b.after {
		if p.lazy == nil { // the event path's
			b.after[i] = p.ev.Transfer.Entries[i].Balance
		} else if b.after[i] != "" {
			b.after[i] = "" // a compact posting's: see Books.after
		}
	}
	from.stated, to.stated = from.balance, to.balance
	return true
}

// restate makes stated the balance acc's last entry states, and moves its
// asset's sum of stated balances with it.
func (acc *accountBook) restate(stated domain.Amount) {
	diff, _ := stated.Sub(acc.stated)
	acc.asset.stated, _ = acc.asset.stated.Add(diff)
	acc.stated = stated
}

// stateFound is state for an entry whose stated balance is not the
// recomputed one, or not read at the asset's scale: it says what is
// wrong, where it appears or changes.
func (b *Books) stateFound(p *posting, i int, acc *accountBook) {
	f := b.f
	n := p.n
	scale := acc.asset.scale
	stated, canonical := n.after[i], n.ok && int(n.places[1+i]) == scale
	if !canonical {
		var err error
		e := &p.transfer().Entries[i]
		if stated, err = domain.ParseBalance(e.Balance, scale); err != nil {
			f(Finding{Check: CheckBalance, Seq: p.seq, Account: acc.id, Asset: acc.asset.code,
				Detail: fmt.Sprintf("%s entry balance %q does not parse: %v", e.Type, e.Balance, err)})
			stated = acc.balance
		}
	}
	switch {
	case !canonical || stated.Cmp(acc.balance) != 0:
		b.after[i] = acc.balance.Format(scale)
	case p.lazy == nil: // the event path's
		b.after[i] = p.ev.Transfer.Entries[i].Balance
	default:
		b.after[i] = "" // a compact posting's: see Books.after
	}
	drift, _ := stated.Sub(acc.balance)
	if !drift.IsZero() && drift.Cmp(acc.drift) != 0 || drift.IsZero() && !canonical {
		e := &p.transfer().Entries[i]
		f(Finding{Check: CheckBalance, Seq: p.seq, Account: acc.id, Asset: acc.asset.code, Detail: fmt.Sprintf(
			"%s entry states the balance after as %s, recomputed from the journal it is %s", e.Type, e.Balance, b.after[i])})
	}
	acc.setDrift(drift)
	acc.restate(stated)
}

// sumsToZero sums each asset's recomputed balances account by account
// and reports any asset whose sum is not zero, at sequence seq.
func (b *Books) sumsToZero(seq uint64) {
	f := b.f
	sums := make(map[string]domain.Amount, len(b.assets))
	for code, as := range b.assets {
		sums[code], _ = as.world.balance.Add(as.fx.balance)
	}
	for _, acc := range b.accounts {
		sums[acc.asset.code], _ = sums[acc.asset.code].Add(acc.balance)
	}
	for _, code := range sortedKeys(sums) {
		if sum := sums[code]; !sum.IsZero() {
			f(Finding{Check: CheckZeroSum, Seq: seq, Asset: code, Detail: fmt.Sprintf(
				"the recomputed balances sum to %s, not zero", sum.Format(b.assets[code].scale))})
		}
	}
}
