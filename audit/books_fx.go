package audit

import (
	"fmt"
	"strings"

	"github.com/nats-ledger/ledger/domain"
)

// The books of cross-currency transfers (ADR 0019): the rate table as the
// journal sets it, and each conversion's four legs, its rate and its
// rounding.

// RateSet records the rate; both assets must be defined.
func (h booksApplier) RateSet(ev *domain.Event, r *domain.RateSet) error {
	b := h.b
	if b.assets[r.Base] == nil || b.assets[r.Quote] == nil {
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: r.Base, Detail: fmt.Sprintf("rate of %s in %s: an asset is undefined", r.Base, r.Quote)})
		return nil
	}
	if b.rates == nil {
		b.rates = make(map[[2]string]string)
	}
	b.rates[[2]string{strings.Clone(r.Base), strings.Clone(r.Quote)}] = strings.Clone(r.Rate)
	return nil
}

// TransferConverted checks a conversion: its accounts hold its two
// assets, its amounts are at their scales, a table rate is the table's,
// to_amount is amount × rate rounded down at to_asset's scale (nothing
// created), the sender stays within its limit; then it moves the four
// legs and checks the balances the entries state.
func (h booksApplier) TransferConverted(ev *domain.Event, c *domain.ConvertedTransfer) error {
	b := h.b
	legs, amount, toAmount, ok := b.checkConversion(ev, c)
	if !ok {
		return nil
	}
	// Debit of the sender, credit of FX (asset), debit of FX (to_asset),
	// credit of the recipient: all computed before any moves.
	var after [4]domain.Amount
	for i, leg := range legs {
		var fits bool
		switch i {
		case 0:
			after[i], fits = leg.balance.Sub(amount)
		case 1:
			after[i], fits = leg.balance.Add(amount)
		case 2:
			after[i], fits = leg.balance.Sub(toAmount)
		default:
			after[i], fits = leg.balance.Add(toAmount)
		}
		if !fits {
			b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: leg.asset.code, Detail: fmt.Sprintf("transfer %s overflows a balance", c.ID)})
			return nil
		}
	}
	for i, leg := range legs {
		leg.balance = after[i]
	}
	if at, dup := b.posted.putAny(b.keyOf(c.ID), ev.Seq); dup {
		b.f(Finding{Check: CheckUnique, Seq: ev.Seq, Asset: c.Asset,
			Detail: fmt.Sprintf("transfer %s posted again: it was posted at sequence %d", c.ID, at)})
	}
	b.postings++
	b.conversions++
	b.checkStatus(ev.Seq, func() string { return c.ID }, legs[0], legs[3])
	from := legs[0]
	if from.belowFloor() {
		b.f(Finding{Check: CheckLimit, Seq: ev.Seq, Account: from.id, Asset: from.asset.code, Detail: fmt.Sprintf(
			"transfer %s takes the balance to %s, below the lower limit %s",
			c.ID, from.balance.Format(from.asset.scale), from.floor.Format(from.asset.scale))})
	}
	for i, leg := range legs {
		leg.lastSeq = ev.Seq
		b.afterConv[i] = b.stateLeg(ev, &c.Entries[i], leg)
	}
	for _, as := range [2]*assetBook{legs[0].asset, legs[3].asset} {
		if !as.stated.IsZero() && as.zeroAt == 0 {
			as.zeroAt = ev.Seq
			b.f(Finding{Check: CheckZeroSum, Seq: ev.Seq, Asset: as.code, Detail: fmt.Sprintf(
				"the balances the entries state sum to %s, not zero", as.stated.Format(as.scale))})
		} else if as.stated.IsZero() {
			as.zeroAt = 0
		}
	}
	return nil
}

// checkConversion resolves a conversion's legs (sender, FX in its asset,
// FX in to_asset, recipient) and amounts, reporting what does not hold.
func (b *Books) checkConversion(ev *domain.Event, c *domain.ConvertedTransfer) (legs [4]*accountBook, amount, toAmount domain.Amount, ok bool) {
	fail := func(format string, args ...any) {
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: c.Asset, Detail: fmt.Sprintf("transfer %s: ", c.ID) + fmt.Sprintf(format, args...)})
	}
	a, q := b.assets[c.Asset], b.assets[c.ToAsset]
	if a == nil || q == nil {
		fail("converts %s to %s: an asset is undefined", c.Asset, c.ToAsset)
		return legs, amount, toAmount, false
	}
	from, to := b.accounts[c.From], b.accounts[c.To]
	if from == nil || to == nil || from.asset != a || to.asset != q {
		fail("from %s and to %s do not hold %s and %s", c.From, c.To, c.Asset, c.ToAsset)
		return legs, amount, toAmount, false
	}
	if c.RateFrom == domain.RateFromTable {
		if want, set := b.rates[[2]string{c.Asset, c.ToAsset}]; !set || want != c.ExchangeRate {
			fail("rate %s from the table, where the journal set %s/%s to %q", c.ExchangeRate, c.Asset, c.ToAsset, want)
			return legs, amount, toAmount, false
		}
	}
	var err error
	if amount, err = domain.ParseAmount(c.Amount, a.scale); err != nil || !atScale(c.Amount, a.scale) || amount.Sign() <= 0 {
		fail("amount %s is not a positive amount at %s's scale %d", c.Amount, c.Asset, a.scale)
		return legs, amount, toAmount, false
	}
	if toAmount, err = domain.ParseAmount(c.ToAmount, q.scale); err != nil || !atScale(c.ToAmount, q.scale) {
		fail("to_amount %s is not an amount at %s's scale %d", c.ToAmount, c.ToAsset, q.scale)
		return legs, amount, toAmount, false
	}
	if want, fits := domain.Convert(amount, a.scale, c.ExchangeRate, q.scale); !fits || want != toAmount {
		fail("to_amount %s %s is not %s %s at %s rounded down (%s %s)", c.ToAmount, c.ToAsset, c.Amount, c.Asset, c.ExchangeRate,
			want.Format(q.scale), c.ToAsset)
		return legs, amount, toAmount, false
	}
	return [4]*accountBook{from, a.fx, q.fx, to}, amount, toAmount, true
}

// stateLeg is state for one leg of a conversion: it compares the entry's
// balance after with the recomputed one, keeps the stated balance for the
// zero-sum check, and returns the recomputed balance as the entry should
// state it.
func (b *Books) stateLeg(ev *domain.Event, e *domain.Entry, acc *accountBook) string {
	scale := acc.asset.scale
	want := acc.balance.Format(scale)
	stated, err := domain.ParseBalance(e.Balance, scale)
	if err != nil {
		b.f(Finding{Check: CheckBalance, Seq: ev.Seq, Account: acc.id, Asset: acc.asset.code,
			Detail: fmt.Sprintf("%s entry balance %q does not parse: %v", e.Type, e.Balance, err)})
		stated = acc.balance
	}
	drift, _ := stated.Sub(acc.balance)
	if !drift.IsZero() && drift.Cmp(acc.drift) != 0 || drift.IsZero() && e.Balance != want {
		b.f(Finding{Check: CheckBalance, Seq: ev.Seq, Account: acc.id, Asset: acc.asset.code, Detail: fmt.Sprintf(
			"%s entry states the balance after as %s, recomputed from the journal it is %s", e.Type, e.Balance, want)})
	}
	acc.setDrift(drift)
	diff, _ := stated.Sub(acc.stated)
	acc.asset.stated, _ = acc.asset.stated.Add(diff)
	acc.stated = stated
	return want
}
