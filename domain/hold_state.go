package domain

import (
	"container/heap"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The state of two-phase transfers: the pending holds (with the sum each
// account holds, and an expiry queue), and what became of every settled
// hold, to answer a repeated post or void as the first.

// holdStatus is what became of a hold.
type holdStatus byte

const (
	holdPosted holdStatus = iota + 1
	holdVoided
	holdExpired
)

func (h holdStatus) String() string {
	switch h {
	case holdPosted:
		return "posted"
	case holdVoided:
		return "voided"
	case holdExpired:
		return "expired"
	}
	return "unknown"
}

// hold is a pending transfer.
type hold struct {
	id       string
	from, to *accountState // nil for the issuer account
	asset    *assetState
	amount   Amount
	expires  int64 // Unix nanoseconds; 0: never
	seq      uint64
	index    int // in the expiry queue; -1 when it never expires
}

// settledHold is what is kept of a posted, voided or expired hold: about
// 70 bytes, like a posted id, and for as long.
type settledHold struct {
	status holdStatus
	seq    uint64 // the event that settled it
	asset  *assetState
	from   *accountState // for authority over a repeated action; nil: the issuer
	held   Amount
	posted Amount
}

// holdBook is the state of holds. Its zero value is empty.
type holdBook struct {
	pending map[idKey]*hold
	held    map[*accountState]Amount // per debit account, the sum of its pending holds
	queue   expiryQueue
	settled map[idKey]settledHold
}

func (b *holdBook) pendingCount() int { return len(b.pending) }

// involves reports whether a pending hold debits or credits acc: such an
// account cannot be closed, or the hold's posting would move money of a
// closed account. A close is rare; the scan of the pending credits is
// bounded by MaxPendingHolds.
func (b *holdBook) involves(acc *accountState) bool {
	if !b.held[acc].IsZero() {
		return true
	}
	for _, h := range b.pending {
		if h.to == acc {
			return true
		}
	}
	return false
}

// heldBy returns the sum of acc's pending holds.
func (b *holdBook) heldBy(acc *accountState) Amount { return b.held[acc] }

func (b *holdBook) earliest() *hold {
	if len(b.queue) == 0 {
		return nil
	}
	return b.queue[0]
}

// add makes h pending.
func (b *holdBook) add(key idKey, h *hold) {
	if b.pending == nil {
		b.pending = make(map[idKey]*hold)
		b.held = make(map[*accountState]Amount)
	}
	b.pending[key] = h
	if h.from != nil {
		b.held[h.from], _ = b.held[h.from].Add(h.amount)
	}
	h.index = -1
	if h.expires != 0 {
		heap.Push(&b.queue, h)
	}
}

// remove forgets the pending hold key.
func (b *holdBook) remove(key idKey) *hold {
	h := b.pending[key]
	if h == nil {
		return nil
	}
	delete(b.pending, key)
	if h.from != nil {
		left, _ := b.held[h.from].Sub(h.amount)
		if left.IsZero() {
			delete(b.held, h.from)
		} else {
			b.held[h.from] = left
		}
	}
	if h.index >= 0 {
		heap.Remove(&b.queue, h.index)
	}
	return h
}

// settle removes the pending hold key and remembers its outcome.
func (b *holdBook) settle(key idKey, status holdStatus, seq uint64, posted Amount) {
	h := b.remove(key)
	if b.settled == nil {
		b.settled = make(map[idKey]settledHold)
	}
	b.settled[key] = settledHold{status: status, seq: seq, asset: h.asset, from: h.from, held: h.amount, posted: posted}
}

func (h *hold) expired(now time.Time) bool { return h.expires != 0 && h.expires < now.UnixNano() }

func (h *hold) expiresText() string {
	if h.expires == 0 {
		return ""
	}
	return time.Unix(0, h.expires).UTC().Format(time.RFC3339Nano)
}

func (h *hold) fromID() string { return accountID(h.from) }

func (h *hold) toID() string { return accountID(h.to) }

func accountID(a *accountState) string {
	if a == nil {
		return World
	}
	return a.id
}

// credit returns the balance a post of h adds to.
func (h *hold) credit() Amount {
	if h.to == nil {
		return h.asset.world
	}
	return h.to.balance
}

func (h *hold) voiding(reason string) *HoldVoiding {
	v := &HoldVoiding{ID: h.id, From: h.fromID(), To: h.toID(), Asset: h.asset.code,
		Amount: h.amount.Format(h.asset.scale), Reason: reason}
	if reason == VoidExpired {
		v.ExpiresAt = h.expiresText()
	}
	return v
}

// posting is the payload of posting amount of h; its entries' balances
// are filled when it is applied.
func (h *hold) posting(amount Amount) *HoldPosting {
	a := amount.Format(h.asset.scale)
	return &HoldPosting{ID: h.id, From: h.fromID(), To: h.toID(), Asset: h.asset.code,
		Held: h.amount.Format(h.asset.scale), Amount: a,
		Entries: [2]Entry{{Account: h.fromID(), Type: Debit, Amount: a}, {Account: h.toID(), Type: Credit, Amount: a}}}
}

// expiryQueue orders the pending holds that expire by (expiry, id): the
// order of the events that expire them, whatever the heap's shape.
type expiryQueue []*hold

func (q expiryQueue) Len() int { return len(q) }

func (q expiryQueue) Less(i, j int) bool {
	if q[i].expires != q[j].expires {
		return q[i].expires < q[j].expires
	}
	return q[i].id < q[j].id
}

func (q expiryQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}

func (q *expiryQueue) Push(x any) {
	h := x.(*hold)
	h.index = len(*q)
	*q = append(*q, h)
}

func (q *expiryQueue) Pop() any {
	old := *q
	h := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	h.index = -1
	return h
}

// TransferPending places the hold as the journal records it.
func (h stateApplier) TransferPending(ev *Event, p *PendingTransfer) error {
	s := h.s
	r, err := s.resolve(p.Transfer)
	if err == nil && r.toAsset != nil {
		err = reject(CodePendingConversion, "a hold between %s and %s", r.asset.code, r.toAsset.code)
	}
	if err != nil {
		return fmt.Errorf("event %d: %v: %w", ev.Seq, err, ErrInconsistent)
	}
	key := keyOf(r.t.ID)
	if _, dup := s.posted.get(key); dup {
		return fmt.Errorf("event %d holds id %s, which was used before: %w", ev.Seq, r.t.ID, ErrInconsistent)
	}
	hd := &hold{id: strings.Clone(r.t.ID), from: r.from, to: r.to, asset: r.asset, amount: r.amount, seq: ev.Seq}
	if r.t.ExpiresAt != "" {
		exp, err := time.Parse(time.RFC3339Nano, r.t.ExpiresAt)
		if err != nil {
			return fmt.Errorf("event %d: expires_at %q: %w", ev.Seq, r.t.ExpiresAt, ErrInconsistent)
		}
		hd.expires = exp.UnixNano()
	}
	s.holds.add(key, hd)
	s.undo.hold(key)
	s.rememberPosted(key, ev.Seq, &r.t, r.amount)
	s.undo.post(key)
	return nil
}

// pendingFor returns the pending hold that a settling event names, after
// checking that the event describes it.
func (s *State) pendingFor(ev *Event, id, from, to, asset string) (idKey, *hold, error) {
	key := keyOf(id)
	h := s.holds.pending[key]
	if h == nil || h.id != id || h.fromID() != from || h.toID() != to || h.asset.code != asset {
		return key, nil, fmt.Errorf("event %d settles %s, which is no pending hold from %s to %s in %s: %w", ev.Seq, id, from, to, asset, ErrInconsistent)
	}
	return key, h, nil
}

// HoldPosted moves the amount posted and releases the hold, filling the
// entries' balances when Decide made the event.
func (h stateApplier) HoldPosted(ev *Event, p *HoldPosting) error {
	s := h.s
	key, hd, err := s.pendingFor(ev, p.ID, p.From, p.To, p.Asset)
	if err != nil {
		return err
	}
	amount, err := ParseAmount(p.Amount, hd.asset.scale)
	if err != nil || p.Held != hd.amount.Format(hd.asset.scale) || amount.Cmp(hd.amount) > 0 || amount.Sign() <= 0 {
		return fmt.Errorf("event %d posts %s of hold %s, which holds %s: %w", ev.Seq, p.Amount, p.ID, hd.amount.Format(hd.asset.scale), ErrInconsistent)
	}
	s.holds.settle(key, holdPosted, ev.Seq, amount)
	fromBal, toBal := s.move(resolved{asset: hd.asset, from: hd.from, to: hd.to, amount: amount})
	p.Entries[0] = Entry{Account: p.From, Type: Debit, Amount: p.Amount, Balance: fromBal.Format(hd.asset.scale)}
	p.Entries[1] = Entry{Account: p.To, Type: Credit, Amount: p.Amount, Balance: toBal.Format(hd.asset.scale)}
	return nil
}

// HoldVoided releases the hold; an expiry must come after expires_at.
func (h stateApplier) HoldVoided(ev *Event, v *HoldVoiding) error {
	s := h.s
	key, hd, err := s.pendingFor(ev, v.ID, v.From, v.To, v.Asset)
	if err != nil {
		return err
	}
	status := holdVoided
	if v.Reason == VoidExpired {
		if !hd.expired(ev.Time) {
			return fmt.Errorf("event %d expires hold %s at %s, not after its expiry %q: %w", ev.Seq, v.ID, ev.Time, hd.expiresText(), ErrInconsistent)
		}
		status = holdExpired
	}
	s.holds.settle(key, status, ev.Seq, Amount{})
	return nil
}

func (payloadRules) TransferPending(_ *Event, p *PendingTransfer) error {
	if err := p.Transfer.ValidateJournaled(); err != nil {
		return err
	}
	if p.Asset == "" || !p.Pending || p.ExchangeRate != "" {
		return errors.New("pending transfer without asset or pending, or with a rate")
	}
	if p.ExpiresAt != "" && normalizeExpiry(p.ExpiresAt) != p.ExpiresAt {
		return fmt.Errorf("expires_at %q is not in UTC", p.ExpiresAt)
	}
	return nil
}

func (payloadRules) HoldPosted(_ *Event, p *HoldPosting) error {
	if err := validateHoldIDs(p.ID, p.From, p.To, p.Asset); err != nil {
		return err
	}
	for _, a := range [2]string{p.Held, p.Amount} {
		if err := CheckAmountLiteral(a); err != nil || isZeroLiteral(a) {
			return fmt.Errorf("amount %q", a)
		}
	}
	d, c := p.Entries[0], p.Entries[1]
	if d.Account != p.From || d.Type != Debit || d.Amount != p.Amount || d.Balance == "" {
		return fmt.Errorf("first entry %+v is not the debit of %s by %s", d, p.From, p.Amount)
	}
	if c.Account != p.To || c.Type != Credit || c.Amount != p.Amount || c.Balance == "" {
		return fmt.Errorf("second entry %+v is not the credit of %s by %s", c, p.To, p.Amount)
	}
	return nil
}

func (payloadRules) HoldVoided(_ *Event, v *HoldVoiding) error {
	if err := validateHoldIDs(v.ID, v.From, v.To, v.Asset); err != nil {
		return err
	}
	if err := CheckAmountLiteral(v.Amount); err != nil || isZeroLiteral(v.Amount) {
		return fmt.Errorf("amount %q", v.Amount)
	}
	switch {
	case v.Reason == VoidRequested && v.ExpiresAt == "":
	case v.Reason == VoidExpired && v.ExpiresAt != "" && normalizeExpiry(v.ExpiresAt) == v.ExpiresAt:
	default:
		return fmt.Errorf("reason %q with expires_at %q", v.Reason, v.ExpiresAt)
	}
	return nil
}

func validateHoldIDs(id, from, to, asset string) error {
	for _, f := range [3]struct{ name, v string }{{"id", id}, {"from", from}, {"to", to}} {
		if err := validateIDChars(f.name, f.v); err != nil {
			return err
		}
	}
	return validateAssetCode("asset", asset)
}
