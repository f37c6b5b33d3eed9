package audit

import (
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// TransactionPosted checks a multi-leg transaction (ADR 0023) leg by leg,
// as postings: each leg's accounts are open in its asset, its amount is
// at the asset's scale and positive, its sender stays within its limit
// after the legs before it, and its entries state the recomputed
// balances; the transaction's id is posted once. A leg that does not add
// up is a finding and the transaction is left unapplied from that leg on.
func (h booksApplier) TransactionPosted(ev *domain.Event, p *domain.PostedTransaction) error {
	b := h.b
	f := b.f
	if at, dup := b.posted.putAny(b.keyOf(p.ID), ev.Seq); dup {
		f(Finding{Check: CheckUnique, Seq: ev.Seq, Detail: fmt.Sprintf("transaction %s posted again: it was posted at sequence %d", p.ID, at)})
	}
	touched := map[*assetBook]bool{}
	for i := range p.Legs {
		l := &p.Legs[i]
		as := b.assets[l.Asset]
		if as == nil {
			f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: l.Asset, Detail: fmt.Sprintf("transaction %s leg %d in an undefined asset", p.ID, i)})
			return nil
		}
		from, to := b.account(l.From, as), b.account(l.To, as)
		if from == nil || to == nil || from.asset != as || to.asset != as {
			f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: as.code, Detail: fmt.Sprintf("transaction %s leg %d names an account not open in %s", p.ID, i, as.code)})
			return nil
		}
		amount, err := domain.ParseAmount(l.Amount, as.scale)
		if err != nil || !atScale(l.Amount, as.scale) || amount.Sign() <= 0 {
			f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: as.code, Detail: fmt.Sprintf("transaction %s leg %d: amount %q at scale %d", p.ID, i, l.Amount, as.scale)})
			return nil
		}
		fromAfter, okFrom := from.balance.Sub(amount)
		toAfter, okTo := to.balance.Add(amount)
		if !okFrom || !okTo {
			f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: as.code, Detail: fmt.Sprintf("transaction %s leg %d overflows a balance", p.ID, i)})
			return nil
		}
		b.postings++ // each leg is a posting: two entries in the read model
		from.balance, to.balance = fromAfter, toAfter
		from.lastSeq, to.lastSeq = ev.Seq, ev.Seq
		if from.belowFloor() {
			f(Finding{Check: CheckLimit, Seq: ev.Seq, Account: from.id, Asset: as.code, Detail: fmt.Sprintf(
				"transaction %s leg %d takes the balance to %s, below the lower limit %s",
				p.ID, i, from.balance.Format(as.scale), from.floor.Format(as.scale))})
		}
		b.stateEntry(ev, &l.Entries[0], from)
		b.stateEntry(ev, &l.Entries[1], to)
		touched[as] = true
	}
	for as := range touched {
		if !as.stated.IsZero() && as.zeroAt == 0 {
			as.zeroAt = ev.Seq
			f(Finding{Check: CheckZeroSum, Seq: ev.Seq, Asset: as.code, Detail: fmt.Sprintf(
				"the balances the entries state sum to %s, not zero", as.stated.Format(as.scale))})
		} else if as.stated.IsZero() {
			as.zeroAt = 0
		}
	}
	return nil
}

// stateEntry compares an entry's balance after with the recomputed one
// and keeps what it states for the zero-sum check (state, for an entry
// the line's numbers were not read for).
func (b *Books) stateEntry(ev *domain.Event, e *domain.Entry, acc *accountBook) {
	scale := acc.asset.scale
	stated, err := domain.ParseBalance(e.Balance, scale)
	if err != nil || !atScale(e.Balance, scale) || stated.Cmp(acc.balance) != 0 {
		b.f(Finding{Check: CheckBalance, Seq: ev.Seq, Account: acc.id, Asset: acc.asset.code, Detail: fmt.Sprintf(
			"%s entry states the balance after as %s, recomputed from the journal it is %s", e.Type, e.Balance, acc.balance.Format(scale))})
		if err != nil {
			stated = acc.balance
		}
	}
	drift, _ := stated.Sub(acc.balance)
	acc.setDrift(drift)
	diff, _ := stated.Sub(acc.stated)
	acc.asset.stated, _ = acc.asset.stated.Add(diff)
	acc.stated = stated
}

// TransactionRejected must not reject a posted id.
func (h booksApplier) TransactionRejected(ev *domain.Event, r *domain.RejectedTransaction) error {
	h.rejected(ev, "transaction", r.ID, "")
	return nil
}
