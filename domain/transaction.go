package domain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Multi-leg transactions (ADR 0023): several postings decided as one, all
// or nothing, journaled as one TransactionPosted event.

// Event types of transactions.
const (
	EventTransactionPosted   EventType = "TransactionPosted"
	EventTransactionRejected EventType = "TransactionRejected"
)

// MaxLegs bounds a transaction's legs: a payment with its fees and splits
// needs a handful; the bound keeps one transaction's event well inside a
// journal record and the undo log of its decision small.
const MaxLegs = 64

// Leg is one posting of a transaction: a transfer without an id of its
// own (it is the transaction's, with its index).
type Leg struct {
	From      string            `json:"from"`
	To        string            `json:"to"`
	Amount    string            `json:"amount"`
	Asset     string            `json:"asset,omitempty"`
	Reference string            `json:"reference,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// Transaction asks to post its legs, in order, all or none. ID shares the
// one id space of transfers.
type Transaction struct {
	ID        string            `json:"id"`
	Reference string            `json:"reference,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	Legs      []Leg             `json:"legs"`
}

// PostedLeg is a leg as posted: resolved (asset filled in, amount at its
// scale) with its debit and credit, each with the balance after it.
type PostedLeg struct {
	Leg
	Entries [2]Entry `json:"entries"`
}

// PostedTransaction is the payload of TransactionPosted.
type PostedTransaction struct {
	ID        string            `json:"id"`
	Reference string            `json:"reference,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	Legs      []PostedLeg       `json:"legs"`
}

// RejectedTransaction is the payload of TransactionRejected: the request
// as made, the index of the leg refused, its code and detail.
type RejectedTransaction struct {
	Transaction
	Leg    int    `json:"leg"`
	Code   Code   `json:"code"`
	Detail string `json:"detail"`
}

func (l Leg) transfer(id string) Transfer {
	return Transfer{ID: id, From: l.From, To: l.To, Amount: l.Amount, Asset: l.Asset, Reference: l.Reference, Metadata: l.Metadata}
}

// Validate checks the request's shape: the id, the reference and
// metadata, one to MaxLegs legs, each valid as a transfer of the
// transaction's id would be. The error names the leg.
func (tx *Transaction) Validate() error {
	if err := ValidateID("id", tx.ID); err != nil {
		return err
	}
	if err := validateText("reference", tx.Reference, MaxReferenceLen); err != nil {
		return err
	}
	if err := ValidateMetadata(tx.Metadata); err != nil {
		return err
	}
	if len(tx.Legs) == 0 || len(tx.Legs) > MaxLegs {
		return &FieldError{Field: "legs", Reason: fmt.Sprintf("a transaction has 1 to %d legs, not %d", MaxLegs, len(tx.Legs))}
	}
	for i, l := range tx.Legs {
		if err := l.transfer(tx.ID).Validate(); err != nil {
			return legError(i, asCoded(err))
		}
	}
	return nil
}

// legError names leg i in err's detail, keeping its code.
func legError(i int, err CodedError) CodedError {
	if fe, ok := err.(*FieldError); ok {
		return &FieldError{Field: fmt.Sprintf("legs[%d].%s", i, fe.Field), Reason: fe.Reason}
	}
	return reject(err.Code(), "leg %d: %s", i, err.Error())
}

// decideTransaction posts a transaction, answers a replay of one, or
// refuses it: a malformed or forbidden one without an event, one whose leg
// the ledger refuses as a TransactionRejected naming the leg.
func (s *State) decideTransaction(cmd Command, now time.Time) Decision {
	tx := *cmd.Transaction
	tx.Legs = slices.Clone(tx.Legs)
	if len(tx.Metadata) == 0 {
		tx.Metadata = nil
	}
	for i := range tx.Legs {
		if len(tx.Legs[i].Metadata) == 0 {
			tx.Legs[i].Metadata = nil
		}
	}
	if err := tx.Validate(); err != nil {
		return Decision{Outcome: Rejected, Err: asCoded(err)}
	}
	for i, l := range tx.Legs {
		if err := mayPost(cmd.Actor, s.accounts[l.From], l.To); err != nil {
			return Decision{Outcome: Rejected, Err: legError(i, err)}
		}
	}
	rs, failed, err := s.resolveLegs(&tx)
	key := keyOf(tx.ID)
	if prev, ok := s.posted.get(key); ok {
		if err == nil && transactionFingerprint(key, &tx, rs) == prev.fp {
			return Decision{Outcome: Replayed, ReplayOf: prev.seq}
		}
		return Decision{Outcome: Rejected, Err: reject(CodeIdempotencyConflict,
			"transaction %s was posted at sequence %d with a different body", tx.ID, prev.seq)}
	}
	s.mustBeChecked(key)
	if err == nil {
		failed, err = s.moveLegs(rs, nil)
	}
	if err != nil {
		ev := s.newEvent(EventTransactionRejected, cmd.Ref, now)
		ev.TransactionRejection = &RejectedTransaction{Transaction: tx, Leg: failed, Code: err.Code(), Detail: err.Error()}
		s.mustApply(ev)
		return Decision{Outcome: Rejected, Err: legError(failed, err), Event: ev}
	}
	ev := s.newEvent(EventTransactionPosted, cmd.Ref, now)
	p := &PostedTransaction{ID: tx.ID, Reference: tx.Reference, Metadata: tx.Metadata, Legs: make([]PostedLeg, len(rs))}
	for i, r := range rs {
		p.Legs[i].Leg = Leg{From: r.t.From, To: r.t.To, Amount: r.t.Amount, Asset: r.t.Asset, Reference: r.t.Reference, Metadata: r.t.Metadata}
	}
	if _, err := s.moveLegs(rs, p.Legs); err != nil {
		panic("domain: moving a decided transaction: " + err.Error())
	}
	ev.Transaction = p
	s.advance(ev)
	s.posted.put(key, postedRef{seq: ev.Seq, fp: transactionFingerprint(key, &tx, rs)})
	return Decision{Outcome: Posted, Event: ev}
}

// resolveLegs resolves every leg against the state without moving money:
// accounts, one asset per leg (a conversion is asset_mismatch), amounts at
// scale. It returns the first leg that does not resolve and why.
func (s *State) resolveLegs(tx *Transaction) ([]resolved, int, CodedError) {
	rs := make([]resolved, len(tx.Legs))
	for i, l := range tx.Legs {
		r, err := s.resolve(l.transfer(tx.ID))
		if err == nil && r.toAsset != nil {
			err = reject(CodeAssetMismatch, "account %s holds %s but %s holds %s", l.From, r.asset.code, l.To, r.toAsset.code)
		}
		if err == nil {
			err = checkLifecycle(r) // a frozen or closed account refuses a leg as a transfer (ADR 0024)
		}
		if err != nil {
			return nil, i, err
		}
		r.t.Amount = r.amount.Format(r.asset.scale)
		rs[i] = r
	}
	return rs, 0, nil
}

// moveLegs moves the legs in order, each checked against the balances the
// legs before it left (a leg may spend what an earlier one credited). With
// entries nil it is a trial: the moves are undone whatever the outcome
// (with the undo log of atomic batches); otherwise it fills entries and
// keeps the moves. It returns the first leg refused and why.
func (s *State) moveLegs(rs []resolved, entries []PostedLeg) (int, CodedError) {
	outer := s.undo
	if entries == nil {
		s.undo = &undoLog{seq: s.seq, lastCmd: s.lastCmd, postedLen: s.posted.mark()}
		defer func() {
			s.undo.rollback(s)
			s.undo = outer
		}()
	}
	for i, r := range rs {
		if err := s.checkMove(r); err != nil {
			return i, err
		}
		fromBal, toBal := s.move(r)
		if entries != nil {
			entries[i].Entries = [2]Entry{
				{Account: r.t.From, Type: Debit, Amount: r.t.Amount, Balance: fromBal.Format(r.asset.scale)},
				{Account: r.t.To, Type: Credit, Amount: r.t.Amount, Balance: toBal.Format(r.asset.scale)},
			}
		}
	}
	return 0, nil
}

// transactionFingerprint covers what makes two requests with one
// transaction id the same once resolved: the id (by its key), the
// reference, the metadata and every leg's accounts, asset, amount at
// scale, reference and metadata, in order.
func transactionFingerprint(key idKey, tx *Transaction, rs []resolved) fingerprint {
	b := append(make([]byte, 0, fpBufBytes), fpTransaction)
	b = append(b, key[:]...)
	b = appendField(b, tx.Reference)
	b = appendMetadata(b, tx.Metadata)
	b = binary.AppendUvarint(b, uint64(len(rs)))
	for _, r := range rs {
		b = appendField(b, r.t.From)
		b = appendField(b, r.t.To)
		b = appendField(b, r.t.Asset)
		b = binary.AppendVarint(b, r.amount.hi)
		b = binary.AppendUvarint(b, r.amount.lo)
		b = appendField(b, r.t.Reference)
		b = appendMetadata(b, r.t.Metadata)
	}
	return fingerprintOf(b)
}

// request returns the transaction as its client asked for it, resolved:
// what its fingerprint covers.
func (p *PostedTransaction) request() Transaction {
	tx := Transaction{ID: p.ID, Reference: p.Reference, Metadata: p.Metadata, Legs: make([]Leg, len(p.Legs))}
	for i, l := range p.Legs {
		tx.Legs[i] = l.Leg
	}
	return tx
}

// TransactionPosted moves every leg as the journal records it and
// remembers the id.
func (h stateApplier) TransactionPosted(ev *Event, p *PostedTransaction) error {
	s := h.s
	tx := p.request()
	rs, _, err := s.resolveLegs(&tx)
	if err != nil {
		return fmt.Errorf("event %d: %v: %w", ev.Seq, err, ErrInconsistent)
	}
	for _, r := range rs {
		s.move(r)
	}
	key := keyOf(tx.ID)
	s.posted.put(key, postedRef{seq: ev.Seq, fp: transactionFingerprint(key, &tx, rs)})
	return nil
}

// TransactionRejected changes nothing: a rejected id stays free.
func (stateApplier) TransactionRejected(*Event, *RejectedTransaction) error { return nil }

func (payloadRules) TransactionPosted(_ *Event, p *PostedTransaction) error {
	tx := p.request()
	if err := validateTransactionJournaled(&tx); err != nil {
		return err
	}
	for i, l := range p.Legs {
		d, c := l.Entries[0], l.Entries[1]
		if l.Asset == "" || d.Account != l.From || d.Type != Debit || d.Amount != l.Amount || d.Balance == "" ||
			c.Account != l.To || c.Type != Credit || c.Amount != l.Amount || c.Balance == "" || isZeroLiteral(l.Amount) {
			return fmt.Errorf("leg %d: entries are not its debit and credit, or it has no asset", i)
		}
	}
	return nil
}

func (payloadRules) TransactionRejected(_ *Event, r *RejectedTransaction) error {
	if err := validateTransactionJournaled(&r.Transaction); err != nil {
		return err
	}
	if r.Leg < 0 || r.Leg >= len(r.Legs) || !slices.Contains(Codes, r.Code) || r.Detail == "" {
		return fmt.Errorf("rejection of leg %d with code %q", r.Leg, r.Code)
	}
	return nil
}

// validateTransactionJournaled checks a transaction as an event records
// it: as Validate, with the id rule the journal keeps.
func validateTransactionJournaled(tx *Transaction) error {
	if len(tx.Legs) == 0 || len(tx.Legs) > MaxLegs {
		return errors.New("a transaction without legs, or with too many")
	}
	if err := validateText("reference", tx.Reference, MaxReferenceLen); err != nil {
		return err
	}
	if err := ValidateMetadata(tx.Metadata); err != nil {
		return err
	}
	for i, l := range tx.Legs {
		if err := l.transfer(tx.ID).ValidateJournaled(); err != nil {
			return fmt.Errorf("leg %d: %w", i, err)
		}
	}
	return nil
}
