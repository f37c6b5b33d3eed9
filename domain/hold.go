package domain

import (
	"fmt"
	"time"
)

// Two-phase transfers (ADR 0022): a pending transfer holds an amount of
// its debit account; posting the hold moves all of it or less (the rest is
// released), voiding it releases all of it, and a hold with an expiry is
// voided by the processor once its clock passes it, through the journal.

// The event types of two-phase transfers.
const (
	// EventTransferPending is a hold placed: nothing moves.
	EventTransferPending EventType = "TransferPending"
	// EventHoldPosted is a hold posted: its two entries move the amount
	// posted; whatever remains of the hold is released.
	EventHoldPosted EventType = "HoldPosted"
	// EventHoldVoided is a hold released whole: voided on request, or
	// expired (Reason).
	EventHoldVoided EventType = "HoldVoided"
)

// Bounds of holds.
const (
	// MaxHoldDuration bounds expires_at: a hold is a promise of money the
	// debit account cannot spend meanwhile, and card networks release
	// authorisations within weeks; 90 days covers the longest of them
	// (hotel and rental pre-authorisations) without letting a hold pin
	// funds for ever by accident. A hold without expires_at never expires.
	MaxHoldDuration = 90 * 24 * time.Hour
	// MaxPendingHolds bounds the holds pending at once in a ledger: each
	// is in the processor's memory (about 200 bytes) and in every
	// snapshot, and the processor scans the earliest expiries at every
	// batch. A million is far above any real book of open authorisations;
	// beyond it a new hold is refused with holds_full until some settle.
	MaxPendingHolds = 1_000_000
	// MaxExpiriesPerBatch bounds the holds one batch expires, so that a
	// backlog of expiries (after a long stop) fills records of the usual
	// size; the rest expire at the next batch or tick.
	MaxExpiriesPerBatch = 1_000
)

// Hold actions.
const (
	HoldPost = "post"
	HoldVoid = "void"
)

// Reasons of HoldVoided.
const (
	VoidRequested = "voided"
	VoidExpired   = "expired"
)

// HoldAction asks to post (all of the hold, or Amount of it) or void the
// pending transfer ID.
type HoldAction struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Amount string `json:"amount,omitempty"` // post only; empty: the whole hold
}

// Validate checks the request's shape.
func (a *HoldAction) Validate() error {
	if err := ValidateID("id", a.ID); err != nil {
		return err
	}
	switch a.Action {
	case HoldPost:
	case HoldVoid:
		if a.Amount != "" {
			return &FieldError{Field: "amount", Reason: "a void releases the whole hold"}
		}
		return nil
	default:
		return &FieldError{Field: "action", Reason: "must be post or void"}
	}
	if a.Amount == "" {
		return nil
	}
	if err := CheckAmountLiteral(a.Amount); err != nil {
		return err
	}
	if isZeroLiteral(a.Amount) {
		return &AmountSyntaxError{Amount: a.Amount, Reason: "must be greater than zero (void the hold to release it whole)"}
	}
	return nil
}

// PendingTransfer is the payload of TransferPending: the resolved
// transfer (asset filled in, amount at its scale, pending, expires_at in
// UTC when it has one).
type PendingTransfer struct {
	Transfer
}

// HoldPosting is the payload of HoldPosted: the hold, the amount it held,
// the amount posted and its two entries, debit first, each with the
// balance after it.
type HoldPosting struct {
	ID      string   `json:"id"`
	From    string   `json:"from"`
	To      string   `json:"to"`
	Asset   string   `json:"asset"`
	Held    string   `json:"held"`
	Amount  string   `json:"amount"`
	Entries [2]Entry `json:"entries"`
}

// HoldVoiding is the payload of HoldVoided: the hold released whole and
// why. An expired hold carries its expires_at, which the event's time is
// after.
type HoldVoiding struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	To        string `json:"to"`
	Asset     string `json:"asset"`
	Amount    string `json:"amount"`
	Reason    string `json:"reason"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// normalizeExpiry returns an RFC 3339 time in UTC as the journal keeps
// it, or s unchanged when it is not one (Validate refuses it).
func normalizeExpiry(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// validateHold checks a transfer's pending and expires_at fields.
func (t Transfer) validateHold() error {
	if t.ExpiresAt != "" {
		if !t.Pending {
			return &FieldError{Field: "expires_at", Reason: "only a pending transfer expires"}
		}
		if _, err := time.Parse(time.RFC3339Nano, t.ExpiresAt); err != nil {
			return &FieldError{Field: "expires_at", Reason: "must be an RFC 3339 time"}
		}
	}
	if t.Pending && t.Memo {
		return &FieldError{Field: "pending", Reason: "a memo moves nothing and holds nothing"}
	}
	return nil
}

// decidePending places the hold r, a resolved pending transfer that is not
// a replay, or journals its rejection. It is decided as a transfer is
// (authority, accounts, asset, scale, limits with every other hold
// counted), but moves nothing.
func (s *State) decidePending(cmd Command, r resolved, now time.Time) Decision {
	t := r.t
	if r.toAsset != nil {
		return s.rejectTransfer(cmd, t, reject(CodePendingConversion,
			"a pending transfer between %s and %s: holds do not convert (ADR 0022)", r.asset.code, r.toAsset.code), now)
	}
	if t.ExpiresAt != "" {
		exp, _ := time.Parse(time.RFC3339Nano, t.ExpiresAt)
		switch {
		case !exp.After(now):
			return s.rejectTransfer(cmd, t, &FieldError{Field: "expires_at", Reason: "must be in the future"}, now)
		case exp.Sub(now) > MaxHoldDuration:
			return s.rejectTransfer(cmd, t, &FieldError{Field: "expires_at",
				Reason: fmt.Sprintf("at most %d days ahead", MaxHoldDuration/(24*time.Hour))}, now)
		}
	}
	if s.holds.pendingCount() >= MaxPendingHolds {
		return s.rejectTransfer(cmd, t, reject(CodeHoldsFull,
			"%d holds are pending, the most a ledger keeps: post or void some first", MaxPendingHolds), now)
	}
	if err := s.checkDebit(r); err != nil {
		return s.rejectTransfer(cmd, t, err, now)
	}
	if r.from != nil {
		if _, ok := s.holds.heldBy(r.from).Add(r.amount); !ok {
			return s.rejectTransfer(cmd, t, reject(CodeBalanceOverflow,
				"the holds of %s would exceed the largest representable amount", t.From), now)
		}
	}
	ev := s.newEvent(EventTransferPending, cmd.Ref, now)
	ev.Hold = &PendingTransfer{Transfer: t}
	s.mustApply(ev)
	return Decision{Outcome: Posted, Event: ev}
}

// decideHoldAction posts or voids a pending transfer: the right of
// whoever may debit its source account (its owner, or an admin; only an
// admin for a hold on the issuer). A repeat of the same post or void
// answers the first (Replayed); any other action on a settled hold is
// hold_not_pending, or hold_expired on an expired one.
func (s *State) decideHoldAction(cmd Command, now time.Time) Decision {
	a := *cmd.Hold
	if err := a.Validate(); err != nil {
		return Decision{Outcome: Rejected, Err: asCoded(err)}
	}
	key := keyOf(a.ID)
	h, pending := s.holds.pending[key]
	var c settledHold
	if !pending {
		var ok bool
		if c, ok = s.holds.settled[key]; !ok {
			return Decision{Outcome: Rejected, Err: s.noHold(cmd.Actor, a.ID)}
		}
	}
	from := c.from
	if pending {
		from = h.from
	}
	if !cmd.Actor.privileged() && (from == nil || !cmd.Actor.mayAct(from.owner)) {
		return Decision{Outcome: Rejected, Err: reject(CodeForbidden,
			"a token for %q may post or void only holds on accounts it owns", cmd.Actor.Subject)}
	}
	if !pending {
		return s.settledAnswer(a, c)
	}
	if h.expired(now) {
		return Decision{Outcome: Rejected, Err: reject(CodeHoldExpired, "hold %s expired at %s", a.ID, h.expiresText())}
	}
	if a.Action == HoldVoid {
		ev := s.newEvent(EventHoldVoided, cmd.Ref, now)
		ev.HoldVoid = h.voiding(VoidRequested)
		s.mustApply(ev)
		return Decision{Outcome: Updated, Event: ev}
	}
	amount := h.amount
	if a.Amount != "" {
		var err error
		if amount, err = ParseAmount(a.Amount, h.asset.scale); err != nil {
			return Decision{Outcome: Rejected, Err: asCoded(err)}
		}
		if amount.Cmp(h.amount) > 0 {
			return Decision{Outcome: Rejected, Err: reject(CodeHoldAmountExceeded,
				"hold %s holds %s %s; %s %s cannot be posted", a.ID, h.amount.Format(h.asset.scale), h.asset.code,
				amount.Format(h.asset.scale), h.asset.code)}
		}
	}
	// A freeze or a close since the hold was placed stops its posting as
	// it stops a transfer (ADR 0024); a void stays possible, which only
	// releases funds.
	if err := checkLifecycle(resolved{from: h.from, to: h.to}); err != nil {
		return Decision{Outcome: Rejected, Err: err}
	}
	if _, ok := h.credit().Add(amount); !ok {
		return Decision{Outcome: Rejected, Err: reject(CodeBalanceOverflow,
			"the balance of %s would exceed the largest representable amount", h.toID())}
	}
	// No check of funds: the hold already counted against the debit
	// account's floor, and posting it lowers the balance by at most what
	// it releases of the holds (ADR 0022).
	ev := s.newEvent(EventHoldPosted, cmd.Ref, now)
	ev.HoldPost = h.posting(amount)
	s.mustApply(ev)
	return Decision{Outcome: Posted, Event: ev}
}

// noHold is the refusal of an action on an id that is no pending or
// settled hold. A non-admin learns no more than that it may not act on it.
func (s *State) noHold(actor *Actor, id string) CodedError {
	if !actor.privileged() {
		return reject(CodeForbidden, "a token for %q may post or void only holds on accounts it owns", actor.Subject)
	}
	if _, ok := s.posted.get(keyOf(id)); ok {
		return reject(CodeHoldNotFound, "transfer %s is not a pending transfer", id)
	}
	return reject(CodeHoldNotFound, "no pending transfer %s", id)
}

// settledAnswer answers an action on a settled hold: the same action
// again is a replay of its settlement.
func (s *State) settledAnswer(a HoldAction, c settledHold) Decision {
	switch {
	case c.status == holdExpired:
		return Decision{Outcome: Rejected, Err: reject(CodeHoldExpired, "hold %s expired (sequence %d)", a.ID, c.seq)}
	case a.Action == HoldVoid && c.status == holdVoided:
		return Decision{Outcome: Replayed, ReplayOf: c.seq}
	case a.Action == HoldPost && c.status == holdPosted:
		want := c.held
		if a.Amount != "" {
			amount, err := ParseAmount(a.Amount, c.asset.scale)
			if err != nil {
				return Decision{Outcome: Rejected, Err: asCoded(err)}
			}
			want = amount
		}
		if want == c.posted {
			return Decision{Outcome: Replayed, ReplayOf: c.seq}
		}
		return Decision{Outcome: Rejected, Err: reject(CodeHoldNotPending,
			"hold %s was posted for %s %s at sequence %d", a.ID, c.posted.Format(c.asset.scale), c.asset.code, c.seq)}
	}
	return Decision{Outcome: Rejected, Err: reject(CodeHoldNotPending, "hold %s was %s at sequence %d", a.ID, c.status, c.seq)}
}

// ExpireHolds voids, as expired, the holds whose expires_at is before
// now (at most MaxExpiriesPerBatch, earliest first, by id among equal
// times) and returns their events, answering the latest command decided:
// the processor calls it with the time it decides a batch at, and when
// idle, so that expiry is an event of the journal and a replay never
// consults a clock.
func (s *State) ExpireHolds(now time.Time) []*Event {
	var out []*Event
	for len(out) < MaxExpiriesPerBatch {
		h := s.holds.earliest()
		if h == nil || !h.expired(now) {
			break
		}
		ev := s.newEvent(EventHoldVoided, s.lastCmd, now)
		ev.HoldVoid = h.voiding(VoidExpired)
		s.mustApply(ev)
		out = append(out, ev)
	}
	return out
}

// NextExpiry returns the earliest expiry of a pending hold, and false
// when no pending hold expires: the processor wakes then.
func (s *State) NextExpiry() (time.Time, bool) {
	h := s.holds.earliest()
	if h == nil {
		return time.Time{}, false
	}
	return time.Unix(0, h.expires).UTC(), true
}
