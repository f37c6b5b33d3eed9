package audit

import (
	"fmt"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// The books of two-phase transfers (ADR 0022): every hold is tracked from
// its TransferPending to the HoldPosted or HoldVoided that settles it. The
// books check that a hold is settled once, that a post never exceeds its
// hold, that an expiry comes after the hold's expires_at, and that no
// account's available balance (its balance less its pending holds) is
// ever below its lower limit.

// auditHold is a pending hold as the books keep it.
type auditHold struct {
	from, to *accountBook
	asset    *assetBook
	amount   domain.Amount
	expires  time.Time // zero: never
}

// holdLedger is the holds the books track: pending ones by id, settled
// ones by id (with the sequence that settled them), and each account's
// pending sum. Both maps grow with the journal's holds, like the posted
// ids.
type holdLedger struct {
	pending map[string]*auditHold
	settled map[string]uint64
	held    map[*accountBook]domain.Amount
}

func (l *holdLedger) init() {
	if l.pending == nil {
		l.pending = make(map[string]*auditHold)
		l.settled = make(map[string]uint64)
		l.held = make(map[*accountBook]domain.Amount)
	}
}

// checkAvailable reports acc when its balance less its holds is below its
// floor.
func (b *Books) checkAvailable(ev *domain.Event, acc *accountBook, id string) {
	if acc.unlimited {
		return
	}
	held := b.holds.held[acc]
	if avail, ok := acc.balance.Sub(held); !ok || avail.Cmp(acc.floor) < 0 {
		b.f(Finding{Check: CheckLimit, Seq: ev.Seq, Account: acc.id, Asset: acc.asset.code, Detail: fmt.Sprintf(
			"hold %s: the balance %s less the pending holds %s is below the lower limit %s",
			id, acc.balance.Format(acc.asset.scale), held.Format(acc.asset.scale), acc.floor.Format(acc.asset.scale))})
	}
}

// holdSides resolves a hold's asset and accounts, reporting what is amiss.
func (b *Books) holdSides(ev *domain.Event, id, from, to, asset string) (*assetBook, *accountBook, *accountBook, bool) {
	as := b.assets[asset]
	if as == nil {
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: asset, Detail: fmt.Sprintf("hold %s in an undefined asset", id)})
		return nil, nil, nil, false
	}
	f, t := b.account(from, as), b.account(to, as)
	if f == nil || t == nil || f.asset != as || t.asset != as || f == t {
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: asset, Detail: fmt.Sprintf(
			"hold %s from %s to %s: not two accounts opened in %s", id, from, to, asset)})
		return nil, nil, nil, false
	}
	return as, f, t, true
}

func (h booksApplier) TransferPending(ev *domain.Event, p *domain.PendingTransfer) error {
	b := h.b
	b.holds.init()
	as, from, to, ok := b.holdSides(ev, p.ID, p.From, p.To, p.Asset)
	if !ok {
		return nil
	}
	amount, err := postedAmount(&p.Transfer, as.scale, &numbers{})
	if err != nil {
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: p.Asset, Detail: fmt.Sprintf("hold %s: %v", p.ID, err)})
		return nil
	}
	hd := &auditHold{from: from, to: to, asset: as, amount: amount}
	if p.ExpiresAt != "" {
		hd.expires, _ = time.Parse(time.RFC3339Nano, p.ExpiresAt) // the schema check parsed it
	}
	if at, dup := b.posted.putAny(b.keyOf(p.ID), ev.Seq); dup {
		b.f(Finding{Check: CheckUnique, Seq: ev.Seq, Asset: p.Asset,
			Detail: fmt.Sprintf("hold %s: the id was used at sequence %d", p.ID, at)})
		return nil
	}
	id := strings.Clone(p.ID)
	b.holds.pending[id] = hd
	if from != as.world {
		b.holds.held[from], _ = b.holds.held[from].Add(amount)
		b.checkAvailable(ev, from, id)
	}
	return nil
}

// settleHold finds the pending hold id that ev settles and releases it,
// reporting a hold unknown, settled before or described otherwise.
func (b *Books) settleHold(ev *domain.Event, id, from, to, asset, verb string) *auditHold {
	b.holds.init()
	hd := b.holds.pending[id]
	if hd == nil {
		detail := fmt.Sprintf("hold %s %s, but no such hold is pending", id, verb)
		check := CheckConsistent
		if at, ok := b.holds.settled[id]; ok {
			check, detail = CheckUnique, fmt.Sprintf("hold %s %s, but it was settled at sequence %d", id, verb, at)
		}
		b.f(Finding{Check: check, Seq: ev.Seq, Asset: asset, Detail: detail})
		return nil
	}
	if hd.from.id != from || hd.to.id != to || hd.asset.code != asset {
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: asset, Detail: fmt.Sprintf(
			"hold %s %s from %s to %s in %s; it holds from %s to %s in %s", id, verb, from, to, asset, hd.from.id, hd.to.id, hd.asset.code)})
		return nil
	}
	delete(b.holds.pending, id)
	// A copy: id may be a view of the line, whose bytes the pipeline
	// reuses (or unmaps) once the chunk is consumed.
	b.holds.settled[strings.Clone(id)] = ev.Seq
	if hd.from != hd.asset.world {
		left, _ := b.holds.held[hd.from].Sub(hd.amount)
		b.holds.held[hd.from] = left
	}
	return hd
}

func (h booksApplier) HoldPosted(ev *domain.Event, p *domain.HoldPosting) error {
	b := h.b
	hd := b.settleHold(ev, p.ID, p.From, p.To, p.Asset, "posted")
	if hd == nil {
		return nil
	}
	scale := hd.asset.scale
	amount, err := domain.ParseAmount(p.Amount, scale)
	switch {
	case err != nil || !atScale(p.Amount, scale) || amount.Sign() <= 0:
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: p.Asset, Detail: fmt.Sprintf("hold %s posted for %q: not a positive amount at the asset's scale", p.ID, p.Amount)})
		return nil
	case amount.Cmp(hd.amount) > 0 || p.Held != hd.amount.Format(scale):
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: p.From, Asset: p.Asset, Detail: fmt.Sprintf(
			"hold %s posted for %s (stating %s held), but it holds %s", p.ID, p.Amount, p.Held, hd.amount.Format(scale))})
		return nil
	}
	fromAfter, okFrom := hd.from.balance.Sub(amount)
	toAfter, okTo := hd.to.balance.Add(amount)
	if !okFrom || !okTo {
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: p.Asset, Detail: fmt.Sprintf("hold %s overflows a balance", p.ID)})
		return nil
	}
	hd.from.balance, hd.to.balance = fromAfter, toAfter
	hd.from.lastSeq, hd.to.lastSeq = ev.Seq, ev.Seq
	b.postings++
	if hd.from.belowFloor() {
		b.f(Finding{Check: CheckLimit, Seq: ev.Seq, Account: hd.from.id, Asset: p.Asset, Detail: fmt.Sprintf(
			"hold %s takes the balance to %s, below the lower limit %s", p.ID, hd.from.balance.Format(scale), hd.from.floor.Format(scale))})
	}
	b.after[0] = b.stateLeg(ev, &p.Entries[0], hd.from)
	b.after[1] = b.stateLeg(ev, &p.Entries[1], hd.to)
	as := hd.asset
	if !as.stated.IsZero() && as.zeroAt == 0 {
		as.zeroAt = ev.Seq
		b.f(Finding{Check: CheckZeroSum, Seq: ev.Seq, Asset: as.code, Detail: fmt.Sprintf(
			"the balances the entries state sum to %s, not zero", as.stated.Format(as.scale))})
	} else if as.stated.IsZero() {
		as.zeroAt = 0
	}
	return nil
}

func (h booksApplier) HoldVoided(ev *domain.Event, v *domain.HoldVoiding) error {
	b := h.b
	hd := b.settleHold(ev, v.ID, v.From, v.To, v.Asset, v.Reason)
	if hd == nil {
		return nil
	}
	if v.Amount != hd.amount.Format(hd.asset.scale) {
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: v.Asset, Detail: fmt.Sprintf(
			"hold %s %s releasing %s, but it holds %s", v.ID, v.Reason, v.Amount, hd.amount.Format(hd.asset.scale))})
	}
	if v.Reason == domain.VoidExpired {
		exp, err := time.Parse(time.RFC3339Nano, v.ExpiresAt)
		if hd.expires.IsZero() || err != nil || !exp.Equal(hd.expires) || !ev.Time.After(hd.expires) {
			b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: v.Asset, Detail: fmt.Sprintf(
				"hold %s expired at %s, which is not after its expires_at %s", v.ID, ev.Time.Format(time.RFC3339Nano), hd.expires.Format(time.RFC3339Nano))})
		}
	}
	return nil
}

// HoldPosted compares the posting row the read model wrote for a hold
// posted: its transfer and the balances after its entries.
func (h readModelEvent) HoldPosted(ev *domain.Event, p *domain.HoldPosting) error {
	if !h.applied {
		return nil
	}
	t := &domain.Transfer{ID: p.ID, From: p.From, To: p.To, Amount: p.Amount, Asset: p.Asset}
	row, err := h.rm.postingAt(ev, t, "posted from its hold", h.f)
	if row == nil {
		return err
	}
	var diffs []string
	for _, d := range [...]struct{ name, got, want string }{
		{"id", row.ID, p.ID}, {"from", row.From, p.From}, {"to", row.To, p.To}, {"amount", row.Amount, p.Amount}, {"asset", row.Asset, p.Asset},
		{"balance after the debit of " + p.From, row.DebitBalance, h.b.after[0]},
		{"balance after the credit of " + p.To, row.CreditBalance, h.b.after[1]},
	} {
		if d.got != d.want {
			diffs = append(diffs, fmt.Sprintf("%s %q, recomputed %q", d.name, d.got, d.want))
		}
	}
	if len(diffs) > 0 {
		h.f(Finding{Check: CheckReadModel, Seq: ev.Seq, Account: p.From, Asset: p.Asset,
			Detail: "hold " + p.ID + ": " + strings.Join(diffs, "; ")})
	}
	// Its posting row takes over the id, as a transfer's does: a
	// rejection of the id before the hold is left behind.
	h.rm.replaced(ev, t, h.b, h.f)
	return nil
}
