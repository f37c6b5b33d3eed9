package domain

import (
	"errors"
	"fmt"
	"time"
)

// Reversals (ADR 0023): a linked opposite transfer that gives back all or
// part of a posted transfer. It is journaled as a TransferPosted whose
// transfer names the original in Reverses, so a consumer that knows only
// TransferPosted still counts its money right.

// MaxReversals bounds the reversals of one transfer: the processor keeps
// each one's id key and amount (to answer a retry), and the original's
// read shows them all in one answer. A refund in instalments needs a few;
// a hundred is far beyond any real use and keeps both small.
const MaxReversals = 100

// Reversal asks to reverse Amount (empty: all that remains) of the posted
// transfer Original, as a new transfer with its own ID from Original.To to
// Original.From. Original is the transfer as posted, which the API reads
// from the read model: the processor does not remember every posting's
// accounts and amount, only their fingerprint, and refuses an Original
// that does not match it.
type Reversal struct {
	ID        string            `json:"id"`
	Amount    string            `json:"amount,omitempty"`
	Reference string            `json:"reference,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	Original  Transfer          `json:"original"`
}

// ReversalOf is what a reversal's event says about its original: the
// original's amount and what remains unreversed after this reversal, so
// that a reader (the audit) follows the remainder without the original.
type ReversalOf struct {
	OriginalAmount string `json:"original_amount"`
	Remaining      string `json:"remaining"`
}

// Validate checks the request's shape: the ids, the amount's syntax when
// given, the reference and metadata bounds.
func (r *Reversal) Validate() error {
	if err := ValidateID("id", r.ID); err != nil {
		return err
	}
	if err := ValidateID("transfer", r.Original.ID); err != nil {
		return err
	}
	if r.Amount != "" {
		if err := CheckAmountLiteral(r.Amount); err != nil {
			return err
		}
		if isZeroLiteral(r.Amount) {
			return &AmountSyntaxError{Amount: r.Amount, Reason: "must be greater than zero (omit it to reverse what remains)"}
		}
	}
	if err := validateText("reference", r.Reference, MaxReferenceLen); err != nil {
		return err
	}
	return ValidateMetadata(r.Metadata)
}

// reversals is what the processor keeps of a transfer that was reversed:
// the sum reversed and each reversal's id key and amount. Only reversed
// transfers have one (a sparse map), each at most MaxReversals long.
type reversals struct {
	total Amount
	of    []reversalRef
}

type reversalRef struct {
	key    idKey
	amount Amount
}

func (rs *reversals) amountOf(k idKey) (Amount, bool) {
	for _, r := range rs.of {
		if r.key == k {
			return r.amount, true
		}
	}
	return Amount{}, false
}

// decideReversal posts a reversal, answers a replay of one, or refuses it.
func (s *State) decideReversal(cmd Command, now time.Time) Decision {
	rv := *cmd.Reversal
	if len(rv.Metadata) == 0 {
		rv.Metadata = nil
	}
	orig := rv.Original
	if len(orig.Metadata) == 0 {
		orig.Metadata = nil
	}
	if err := rv.Validate(); err != nil {
		return Decision{Outcome: Rejected, Err: asCoded(err)}
	}
	if err := mayReverse(cmd.Actor, s.accounts[orig.To], &orig); err != nil {
		return Decision{Outcome: Rejected, Err: err}
	}
	r, origAmount, err := s.checkOriginal(&orig)
	if err != nil {
		return Decision{Outcome: Rejected, Err: err}
	}
	origKey, key := keyOf(orig.ID), keyOf(rv.ID)
	done := s.reversed[origKey]
	if done == nil {
		done = &reversals{}
	}
	var amount Amount
	if rv.Amount != "" {
		var perr error
		if amount, perr = ParseAmount(rv.Amount, r.asset.scale); perr != nil {
			return Decision{Outcome: Rejected, Err: asCoded(perr)}
		}
	}
	if prev, ok := s.posted.get(key); ok {
		had, mine := done.amountOf(key)
		if mine && prev.fp == reversalFingerprint(key, orig.ID, rv.Reference, rv.Metadata) && (rv.Amount == "" || had == amount) {
			return Decision{Outcome: Replayed, ReplayOf: prev.seq}
		}
		return Decision{Outcome: Rejected, Err: reject(CodeIdempotencyConflict,
			"transfer %s was posted at sequence %d with a different body", rv.ID, prev.seq)}
	}
	s.mustBeChecked(key)
	remains, _ := origAmount.Sub(done.total)
	if rv.Amount == "" {
		amount = remains
	}
	switch {
	case amount.IsZero() || amount.Cmp(remains) > 0:
		return Decision{Outcome: Rejected, Err: reject(CodeReversalExceedsTransfer,
			"transfer %s has %s %s left to reverse, not %s", orig.ID, remains.Format(r.asset.scale), r.asset.code, amount.Format(r.asset.scale))}
	case len(done.of) >= MaxReversals:
		return Decision{Outcome: Rejected, Err: reject(CodeReversalExceedsTransfer,
			"transfer %s has been reversed %d times, the most a transfer may be", orig.ID, MaxReversals)}
	}
	// The reversal is a transfer from the original's recipient back to
	// its sender, decided from here on as any transfer is.
	r.from, r.to = r.to, r.from
	r.amount = amount
	r.t = Transfer{ID: rv.ID, From: orig.To, To: orig.From, Amount: amount.Format(r.asset.scale), Asset: r.asset.code,
		Reference: rv.Reference, Metadata: rv.Metadata, Reverses: orig.ID}
	if err := checkLifecycle(r); err != nil { // a frozen or closed side refuses it as any transfer (ADR 0024)
		return s.rejectTransfer(cmd, r.t, err, now)
	}
	if err := s.checkMove(r); err != nil {
		return s.rejectTransfer(cmd, r.t, err, now)
	}
	left, _ := remains.Sub(amount)
	ev, p := s.post(cmd, r, now)
	p.Reversal = &ReversalOf{OriginalAmount: origAmount.Format(r.asset.scale), Remaining: left.Format(r.asset.scale)}
	if err := s.noteReversal(ev.Seq, &r.t, amount); err != nil {
		panic("domain: applying a decided reversal: " + err.Error())
	}
	return Decision{Outcome: Posted, Event: ev}
}

// mayReverse is who may reverse orig: an admin, or the owner of the
// account the reversal debits (orig's recipient, to). Only an admin takes
// from the issuer account or pays into it, as for transfers.
func mayReverse(a *Actor, to *accountState, orig *Transfer) CodedError {
	if a.privileged() {
		return nil
	}
	if to == nil || !a.mayAct(to.owner) {
		return reject(CodeForbidden, "a token for %q may reverse only transfers paid into accounts it owns", a.Subject)
	}
	if orig.From == World {
		return reject(CodeForbidden, "a token for %q may not pay the issuer account %q: only an admin reverses a mint", a.Subject, World)
	}
	return nil
}

// checkOriginal resolves orig, the transfer to reverse as the request
// states it, and checks it against what the processor remembers of the
// posting: its fingerprint covers the accounts, the asset, the amount,
// the reference and the metadata, so a forged or stale original is
// refused as not found. Reversals, memos and conversions are not
// reversible (ADR 0023).
func (s *State) checkOriginal(orig *Transfer) (resolved, Amount, CodedError) {
	switch {
	case orig.Reverses != "":
		return resolved{}, Amount{}, reject(CodeTransferNotReversible, "transfer %s is a reversal: post a new transfer instead", orig.ID)
	case orig.Memo:
		return resolved{}, Amount{}, reject(CodeTransferNotReversible, "transfer %s is a memo: it moved nothing", orig.ID)
	case orig.ExchangeRate != "":
		return resolved{}, Amount{}, reject(CodeTransferNotReversible, "transfer %s converted between assets: reverse it with a conversion back", orig.ID)
	}
	notFound := reject(CodeTransferNotFound, "transfer %s is not a posted transfer", orig.ID)
	prev, ok := s.posted.get(keyOf(orig.ID))
	if !ok {
		s.mustBeChecked(keyOf(orig.ID))
	}
	if !ok || orig.Validate() != nil {
		return resolved{}, Amount{}, notFound
	}
	r, err := s.resolve(*orig)
	if err != nil || r.toAsset != nil {
		return resolved{}, Amount{}, notFound
	}
	r.t.Amount = r.amount.Format(r.asset.scale)
	if r.t.Pending {
		r.t.ExpiresAt = normalizeExpiry(r.t.ExpiresAt)
	}
	if transferFingerprint(keyOf(orig.ID), &r.t, r.amount) != prev.fp {
		return resolved{}, Amount{}, notFound
	}
	if !orig.Pending {
		return r, r.amount, nil
	}
	// A hold, as it was requested (ADR 0022): only a posted one moved
	// money, and what it moved, the amount posted, is what may be
	// reversed. A pending, voided or expired hold moved nothing.
	c, ok := s.holds.settled[keyOf(orig.ID)]
	if !ok || c.status != holdPosted {
		return resolved{}, Amount{}, notFound
	}
	return r, c.posted, nil
}

// reversalFingerprint covers what makes two reversal requests with one id
// the same: the id (by its key), the original's id, the reference and the
// metadata. The amount is compared apart (a request may omit it): the
// processor keeps each reversal's amount beside its original.
func reversalFingerprint(key idKey, original, reference string, metadata map[string]string) fingerprint {
	var buf [fpBufBytes]byte
	b := append(buf[:0], fpReversal)
	b = append(b, key[:]...)
	b = appendField(b, original)
	b = appendField(b, reference)
	b = appendMetadata(b, metadata)
	return fingerprintOf(b)
}

// applyReversal moves a reversal's money, remembers its id and adds it to
// its original's reversals. Replaying the journal rebuilds exactly what
// Decide compares.
func (s *State) applyReversal(seq uint64, p *PostedTransfer) error {
	t := &p.Transfer
	r, err := s.resolve(*t)
	if err == nil && r.toAsset != nil {
		err = reject(CodeAssetMismatch, "a reversal between accounts of %s and %s", r.asset.code, r.toAsset.code)
	}
	if err != nil {
		return fmt.Errorf("event %d: %v: %w", seq, err, ErrInconsistent)
	}
	if err := s.noteReversal(seq, t, r.amount); err != nil {
		return err
	}
	s.move(r)
	return nil
}

// noteReversal remembers reversal t of amount: its id, and its amount
// among its original's reversals. It refuses one past MaxReversals.
func (s *State) noteReversal(seq uint64, t *Transfer, amount Amount) error {
	origKey := keyOf(t.Reverses)
	done := s.reversed[origKey]
	if done == nil {
		if s.reversed == nil {
			s.reversed = make(map[idKey]*reversals)
		}
		done = &reversals{}
		s.reversed[origKey] = done
	}
	total, ok := done.total.Add(amount)
	if !ok || len(done.of) >= MaxReversals {
		return fmt.Errorf("event %d: reversal %s of %s: %w", seq, t.ID, t.Reverses, ErrInconsistent)
	}
	key := keyOf(t.ID)
	s.posted.put(key, postedRef{seq: seq, fp: reversalFingerprint(key, t.Reverses, t.Reference, t.Metadata)})
	done.total = total
	done.of = append(done.of, reversalRef{key: key, amount: amount})
	return nil
}

// reversalRules are the journal's rules for a reversal's posting beyond a
// posting's: the original named, its amount and the remainder at the
// asset's scale as the amount is, the remainder below the original.
func reversalRules(p *PostedTransfer) error {
	rv := p.Reversal
	if (p.Reverses == "") != (rv == nil) {
		return errors.New("a reversal names its original and states the remainder, and only a reversal does")
	}
	if rv == nil {
		return nil
	}
	if err := ValidateID("reverses", p.Reverses); err != nil {
		return err
	}
	if p.Memo || p.Reverses == p.ID {
		return errors.New("a reversal is of another transfer and moves money")
	}
	for _, a := range [2]string{rv.OriginalAmount, rv.Remaining} {
		if err := CheckAmountLiteral(a); err != nil || places(a) != places(p.Amount) {
			return fmt.Errorf("reversal amount %q is not at the transfer's scale", a)
		}
	}
	return nil
}

func places(literal string) int {
	for i := 0; i < len(literal); i++ {
		if literal[i] == '.' {
			return len(literal) - i - 1
		}
	}
	return 0
}
