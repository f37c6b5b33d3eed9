package projections

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/nats-ledger/ledger/domain"
)

// Editor changes a stopped read model's rows directly, without the
// journal, keeping each row's index entries in step with it: what a bug,
// a damaged disk or a person with the files might do. It exists for the
// audit's tests and for drills of the audit (`ledger audit` must report
// every change it makes); the ledger itself never uses it.
type Editor struct {
	db *pebble.DB
}

// TransferEdit is a transfer row as the Editor reads and writes it.
// Status is StatusPosted or StatusRejected; a posting has both balances.
type TransferEdit struct {
	Seq                                    uint64
	Status                                 string
	ID, From, To, Amount, Asset, Reference string
	Metadata                               map[string]string
	AtUnixNanos                            int64
	Code, Detail                           string
	DebitBalance, CreditBalance            string
	// A conversion's fields (ADR 0019); ExchangeRate also a rejection's.
	ExchangeRate, ToAsset, ToAmount string
	FXCreditBalance, FXDebitBalance string
	Hash                            string // the journal hash of the event at Seq, hex
}

// ErrNoRow means the Editor found no row to change.
var ErrNoRow = errors.New("no such row")

// Edit opens the read model at path (no process may have it open), calls
// fn, and closes it. Each change is committed with an fsync when made.
func Edit(path string, fn func(*Editor) error) error {
	db, err := openPebble(path, pebbleOptions(false, false))
	if err != nil {
		return fmt.Errorf("edit read model: %w", err)
	}
	v, err := getOptional(db, keySchema)
	if err == nil {
		err = checkSchema(v)
	}
	if err == nil {
		err = fn(&Editor{db: db})
	}
	return errors.Join(err, db.Close())
}

func (e *Editor) commit(fn func(b *pebble.Batch)) error {
	b := e.db.NewBatch()
	defer b.Close()
	fn(b)
	return b.Commit(pebble.Sync)
}

// UpdateTransfer changes the row of transfer id (its sequence too).
func (e *Editor) UpdateTransfer(id string, fn func(*TransferEdit)) error {
	row, ok, err := transferByID(e.db, id)
	if err != nil || !ok {
		return fmt.Errorf("transfer %s: %w", id, firstErr(err, ErrNoRow))
	}
	edit := row.edit()
	fn(&edit)
	next, err := edit.row()
	if err != nil {
		return err
	}
	return e.commit(func(b *pebble.Batch) {
		deleteTransfer(b, &row)
		if next.id != row.id {
			_ = b.Delete(idKey(row.id), nil)
		}
		putTransfer(b, &next, nil)
	})
}

// PutTransfer writes a transfer row (and its index entries).
func (e *Editor) PutTransfer(t TransferEdit) error {
	row, err := t.row()
	if err != nil {
		return err
	}
	return e.commit(func(b *pebble.Batch) { putTransfer(b, &row, nil) })
}

// DeleteTransfer deletes the row of transfer id and its index entries.
func (e *Editor) DeleteTransfer(id string) error {
	row, ok, err := transferByID(e.db, id)
	if err != nil || !ok {
		return fmt.Errorf("transfer %s: %w", id, firstErr(err, ErrNoRow))
	}
	return e.commit(func(b *pebble.Batch) {
		deleteTransfer(b, &row)
		_ = b.Delete(idKey(id), nil)
	})
}

// SetOverdraftLimit changes an account's overdraft limit (asset: as for
// Store.Account).
func (e *Editor) SetOverdraftLimit(id, asset, limit string) error {
	row, ok, err := findAccount(e.db, id, asset)
	if err != nil || !ok {
		return fmt.Errorf("account %s: %w", id, firstErr(err, ErrNoRow))
	}
	row.overdraftLimit = limit
	return e.commit(func(b *pebble.Batch) { _ = b.Set(accountKeyOf(id, row.asset), row.encode(nil), nil) })
}

// DeleteAccount deletes an account row (asset: as for Store.Account).
func (e *Editor) DeleteAccount(id, asset string) error {
	row, ok, err := findAccount(e.db, id, asset)
	if err != nil || !ok {
		return fmt.Errorf("account %s: %w", id, firstErr(err, ErrNoRow))
	}
	return e.commit(func(b *pebble.Batch) {
		_ = b.Delete(accountKeyOf(id, row.asset), nil)
		_ = b.Delete(accountByAssetKey(row.asset, id), nil)
	})
}

// SetCheckpointSeq changes the checkpoint's sequence.
func (e *Editor) SetCheckpointSeq(seq uint64) error {
	cp, err := readCheckpoint(e.db)
	if err != nil {
		return err
	}
	cp.Seq = seq
	return e.commit(func(b *pebble.Batch) { _ = b.Set(keyCheckpoint, encodeCheckpoint(cp), nil) })
}

// PutClock writes a clock entry.
func (e *Editor) PutClock(c ClockRow) error {
	return e.commit(func(b *pebble.Batch) { _ = b.Set(clockKey(c.UnixNanos), appendSeq(nil, c.Seq), nil) })
}

// UpdateClock changes the clock entry of sequence seq; fn returns the
// entry's replacement, or false to delete it.
func (e *Editor) UpdateClock(seq uint64, fn func(ClockRow) (ClockRow, bool)) error {
	p := []byte{famClock}
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return err
	}
	var found *ClockRow
	for ok := it.First(); ok && found == nil; ok = it.Next() {
		if len(it.Value()) == 8 && readSeq(it.Value()) == seq {
			found = &ClockRow{UnixNanos: readTime(it.Key()[1:]), Seq: seq}
		}
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil || found == nil {
		return fmt.Errorf("clock at %d: %w", seq, firstErr(err, ErrNoRow))
	}
	next, keep := fn(*found)
	return e.commit(func(b *pebble.Batch) {
		_ = b.Delete(clockKey(found.UnixNanos), nil)
		if keep {
			_ = b.Set(clockKey(next.UnixNanos), appendSeq(nil, next.Seq), nil)
		}
	})
}

func (t *transferRow) edit() TransferEdit {
	meta, _ := decodeMetadata(t.meta)
	st := StatusPosted
	if t.status == statusRejected {
		st = StatusRejected
	}
	return TransferEdit{Seq: t.seq, Status: st, ID: t.id, From: t.from, To: t.to, Amount: t.amount, Asset: t.asset,
		Reference: t.reference, Metadata: meta, AtUnixNanos: t.at, Code: t.code, Detail: t.detail,
		DebitBalance: t.debitBalance, CreditBalance: t.creditBalance, ExchangeRate: t.exchangeRate,
		ToAsset: t.toAsset, ToAmount: t.toAmount, FXCreditBalance: t.fxCreditBalance, FXDebitBalance: t.fxDebitBalance,
		Hash: t.hash}
}

func (t *TransferEdit) row() (transferRow, error) {
	meta, err := encodeMetadata(t.Metadata)
	if err != nil {
		return transferRow{}, err
	}
	r := transferRow{seq: t.Seq, status: statusPosted, id: t.ID, from: t.From, to: t.To, amount: t.Amount, asset: t.Asset,
		reference: t.Reference, meta: meta, at: t.AtUnixNanos, code: t.Code, detail: t.Detail,
		debitBalance: t.DebitBalance, creditBalance: t.CreditBalance, exchangeRate: t.ExchangeRate,
		toAsset: t.ToAsset, toAmount: t.ToAmount, fxCreditBalance: t.FXCreditBalance, fxDebitBalance: t.FXDebitBalance,
		hash: t.Hash}
	switch t.Status {
	case StatusPosted:
	case StatusRejected:
		r.status = statusRejected
	default:
		return r, fmt.Errorf("transfer %s: status %q: %w", t.ID, t.Status, domain.ErrInconsistent)
	}
	return r, nil
}
