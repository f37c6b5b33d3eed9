package audit

import (
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// reversedBook is what the books keep of a reversed transfer (ADR 0023):
// its amount as its first reversal states it, and what remains of it to
// reverse. Only reversed transfers have one.
type reversedBook struct {
	whole, remaining domain.Amount
}

// reversal checks a posting that reverses another: the original was posted
// before it, every reversal of it states the same original amount, and
// the remainder each states is the one before it less its amount, never
// below zero (so reversals never sum above the original). It reports a
// finding and returns false when the reversal does not add up; the books
// then leave it unapplied, as any inconsistent posting.
func (b *Books) reversal(rp *posting, as *assetBook, amount domain.Amount) bool {
	if !rp.reverses {
		return true
	}
	p := rp.transfer()
	bad := func(why string) bool {
		b.f(Finding{Check: CheckConsistent, Seq: rp.seq, Asset: as.code, Detail: fmt.Sprintf("reversal %s of %s: %s", p.ID, p.Reverses, why)})
		return false
	}
	key := b.keyOf(p.Reverses)
	if _, ok := b.posted.get(key); !ok {
		return bad("it reverses no transfer posted before it")
	}
	whole, err1 := domain.ParseAmount(p.Reversal.OriginalAmount, as.scale)
	left, err2 := domain.ParseAmount(p.Reversal.Remaining, as.scale)
	if err1 != nil || err2 != nil {
		return bad("its original amount or remainder is not an amount of " + as.code)
	}
	if b.reversed == nil {
		b.reversed = make(map[idKey]reversedBook)
	}
	before, seen := b.reversed[key]
	if !seen {
		before = reversedBook{whole: whole, remaining: whole}
	}
	if whole != before.whole {
		return bad(fmt.Sprintf("it states the original amount %s, an earlier reversal %s", p.Reversal.OriginalAmount, before.whole.Format(as.scale)))
	}
	after, _ := before.remaining.Sub(amount)
	if after.Sign() < 0 {
		return bad(fmt.Sprintf("it reverses %s, more than the %s that remained", p.Amount, before.remaining.Format(as.scale)))
	}
	if after != left {
		return bad(fmt.Sprintf("it states %s remaining, recomputed %s", p.Reversal.Remaining, after.Format(as.scale)))
	}
	b.reversed[key] = reversedBook{whole: whole, remaining: after}
	return true
}
