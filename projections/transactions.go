package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// Multi-leg transactions (ADR 0023). A transaction is one row (its view,
// as JSON: transactions are rarer than transfers and read whole) keyed by
// its sequence, with an id index; each leg's debit and credit are entries
// of the accounts at the transaction's sequence, their side byte
// 2+2*leg (debit) and 3+2*leg (credit), so that an account named by
// several legs keeps each entry, in leg order, and transfer listings,
// which take sides 0 and 1 only, skip them.

// TransactionView is a transaction as the API shows it: posted, with
// every leg's entries, or rejected, with the leg refused.
type TransactionView struct {
	ID         string            `json:"id"`
	Status     string            `json:"status"`
	Reference  string            `json:"reference"`
	Metadata   map[string]string `json:"metadata"`
	Legs       []TransactionLeg  `json:"legs"`
	Sequence   uint64            `json:"sequence"`
	Hash       string            `json:"hash,omitempty"` // the journal hash of the event at Sequence (ADR 0029)
	PostedAt   *time.Time        `json:"posted_at,omitempty"`
	Leg        *int              `json:"leg,omitempty"`
	Code       string            `json:"code,omitempty"`
	Detail     string            `json:"detail,omitempty"`
	RejectedAt *time.Time        `json:"rejected_at,omitempty"`
}

// TransactionLeg is one leg of a TransactionView: with its entries once
// posted.
type TransactionLeg struct {
	From      string            `json:"from"`
	To        string            `json:"to"`
	Amount    string            `json:"amount"`
	Asset     string            `json:"asset"`
	Reference string            `json:"reference"`
	Metadata  map[string]string `json:"metadata"`
	Entries   []domain.Entry    `json:"entries,omitempty"`
}

// legSide is the side byte of leg i's debit (credit: one more).
func legSide(i int) byte { return byte(2 + 2*i) }

func txnKey(seq uint64) []byte { return appendSeq([]byte{famTxn}, seq) }

func txnIDKey(id string) []byte { return append([]byte{famTxnID}, id...) }

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// PostedTransactionView is a TransactionPosted event as the read model
// shows it once applied: what the write's answer carries.
func PostedTransactionView(ev *domain.Event) TransactionView {
	p := ev.Transaction
	at := ev.Time
	v := TransactionView{ID: p.ID, Status: StatusPosted, Reference: p.Reference, Metadata: orEmpty(p.Metadata),
		Legs: make([]TransactionLeg, len(p.Legs)), Sequence: ev.Seq, Hash: ev.Hash, PostedAt: &at}
	for i, l := range p.Legs {
		v.Legs[i] = TransactionLeg{From: l.From, To: l.To, Amount: l.Amount, Asset: l.Asset, Reference: l.Reference,
			Metadata: orEmpty(l.Metadata), Entries: l.Entries[:]}
	}
	return v
}

func (a *applier) TransactionPosted(ev *domain.Event, p *domain.PostedTransaction) error {
	if len(p.Legs) > domain.MaxLegs {
		return fmt.Errorf("transaction %s: %d legs: %w", p.ID, len(p.Legs), domain.ErrInconsistent)
	}
	v := PostedTransactionView(ev)
	if err := a.putTransaction(&v); err != nil {
		return err
	}
	for i, l := range p.Legs {
		d, c := l.Entries[0], l.Entries[1]
		_ = a.b.Set(entryKey(l.From, l.Asset, ev.Seq, legSide(i)), []byte(d.Balance), nil)
		_ = a.b.Set(entryKey(l.To, l.Asset, ev.Seq, legSide(i)+1), []byte(c.Balance), nil)
		a.touched[accountKey{l.From, l.Asset}] = struct{}{}
		a.touched[accountKey{l.To, l.Asset}] = struct{}{}
	}
	return nil
}

// TransactionRejected records the rejection unless the id was posted (a
// posted transaction is never touched).
func (a *applier) TransactionRejected(ev *domain.Event, r *domain.RejectedTransaction) error {
	if before, ok, err := transactionByID(a.s.db, r.ID); err != nil || ok && before.Status == StatusPosted {
		return err
	}
	at, leg := ev.Time, r.Leg
	v := TransactionView{ID: r.ID, Status: StatusRejected, Reference: r.Reference, Metadata: orEmpty(r.Metadata),
		Legs: make([]TransactionLeg, len(r.Legs)), Sequence: ev.Seq, Hash: ev.Hash, Leg: &leg, Code: string(r.Code), Detail: r.Detail, RejectedAt: &at}
	for i, l := range r.Legs {
		v.Legs[i] = TransactionLeg{From: l.From, To: l.To, Amount: l.Amount, Asset: l.Asset, Reference: l.Reference, Metadata: orEmpty(l.Metadata)}
	}
	return a.putTransaction(&v)
}

func (a *applier) putTransaction(v *TransactionView) error {
	row, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_ = a.b.Set(txnKey(v.Sequence), row, nil)
	_ = a.b.Set(txnIDKey(v.ID), appendSeq(nil, v.Sequence), nil)
	return nil
}

// transactionAt reads the transaction row at seq.
func transactionAt(r reader, seq uint64) (TransactionView, bool, error) {
	var v TransactionView
	raw, err := getOptional(r, txnKey(seq))
	if err != nil || raw == nil {
		return v, false, err
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, false, fmt.Errorf("transaction at %d: %w", seq, errCorruptRow)
	}
	return v, true, nil
}

func transactionByID(r reader, id string) (TransactionView, bool, error) {
	raw, err := getOptional(r, txnIDKey(id))
	if err != nil || raw == nil {
		return TransactionView{}, false, err
	}
	if len(raw) != 8 {
		return TransactionView{}, false, fmt.Errorf("transaction %s: %w", id, errCorruptRow)
	}
	return transactionAt(r, readSeq(raw))
}

// Transaction returns the transaction id, posted or rejected. ErrNotFound
// when the read model has neither.
func (s *Store) Transaction(_ context.Context, id string) (TransactionView, error) {
	var v TransactionView
	err := s.snapshot(func(r reader) error {
		var ok bool
		var err error
		if v, ok, err = transactionByID(r, id); err == nil && !ok {
			err = ErrNotFound
		}
		if err == nil && v.Status == StatusRejected {
			err = supersededByTransfer(r, id)
		}
		return err
	})
	return v, err
}

// supersededByTransfer is ErrNotFound when a transfer or a hold took id
// after a transaction of that id was refused: a refusal spends no id, and
// transfers and transactions share one id space (ADR 0023), so the id's
// outcome is the transfer's. Only the read of a refused transaction pays
// for the lookups; postings are written blind.
func supersededByTransfer(r reader, id string) error {
	if _, held, err := getHold(r, id); err != nil || held {
		return firstErr(err, ErrNotFound)
	}
	row, ok, err := transferByID(r, id)
	if err == nil && ok && row.status == statusPosted {
		err = ErrNotFound
	}
	return err
}

// legEntry is the entry with side byte side of the transaction at seq.
func legEntry(r reader, seq uint64, side byte, balance string) (EntryView, error) {
	v, ok, err := transactionAt(r, seq)
	if err == nil && !ok {
		err = fmt.Errorf("no transaction at %d: %w", seq, errCorruptRow)
	}
	i := int(side-2) / 2
	if err == nil && (v.PostedAt == nil || i >= len(v.Legs)) {
		err = fmt.Errorf("transaction at %d has no leg %d: %w", seq, i, errCorruptRow)
	}
	if err != nil {
		return EntryView{}, err
	}
	l := v.Legs[i]
	e := EntryView{TransferID: v.ID, Sequence: seq, Type: domain.Debit, Amount: l.Amount, Balance: balance, Reference: l.Reference, PostedAt: *v.PostedAt}
	if side%2 == 1 {
		e.Type = domain.Credit
	}
	if e.Reference == "" {
		e.Reference = v.Reference
	}
	return e, nil
}
