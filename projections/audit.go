package projections

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/cockroachdb/pebble/v2"
)

// Snapshot is a read model opened for an audit: read-only, and every
// query reads one Pebble snapshot, so all its answers come from the same
// committed state. Pebble allows one process per store: a store that a
// running ledger has open cannot be audited from another process (audit
// a stopped ledger, or a replayed copy). Methods may be called from
// several goroutines.
type Snapshot struct {
	db   *pebble.DB
	snap *pebble.Snapshot
	cp   Checkpoint
}

// AssetRow is one asset of the read model.
type AssetRow struct {
	Code  string
	Scale int
	Seq   uint64 // the sequence that defined it
}

// AccountRow is one account of the read model: the issuer account "world"
// has one per asset.
type AccountRow struct {
	ID             string
	Asset          string
	Balance        string
	OverdraftLimit string
	CreatedSeq     uint64
	Seq            uint64 // the last sequence that changed it
}

// PostingRow is a posted transfer (the request as posted, and its time)
// with the balances after its two entries, as the read model has them.
// DebitBalance or CreditBalance is empty when the entry is missing.
type PostingRow struct {
	Seq                                    uint64
	ID, From, To, Amount, Asset, Reference string
	Metadata                               map[string]string // empty when the row has none
	AtUnixNanos                            int64
	DebitBalance                           string
	CreditBalance                          string
	// A conversion's columns, empty for a transfer of one asset.
	ExchangeRate, ToAsset, ToAmount string
	FXCreditBalance, FXDebitBalance string
	Hash                            string // the journal hash the row keeps for its event, hex ("" for none)
}

// OpenSnapshot opens the read model in the directory path for reading
// only and takes its snapshot. It creates nothing: a missing directory is
// an error wrapping os.ErrNotExist, and a path that is not a read model an
// error. Close it to release the store.
func OpenSnapshot(_ context.Context, path string) (*Snapshot, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open read model: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open read model: %s is not a directory (a read model of an earlier release?): %w", path, ErrSchemaVersion)
	}
	db, err := openPebble(path, pebbleOptions(false, true))
	if err != nil {
		return nil, fmt.Errorf("open read model %s: %w", path, err)
	}
	s := &Snapshot{db: db, snap: db.NewSnapshot()}
	v, err := getOptional(s.snap, keySchema)
	if err == nil && v == nil {
		err = fmt.Errorf("open read model: no schema version: %w", ErrSchemaVersion)
	}
	if err == nil {
		err = checkSchema(v)
	}
	if err == nil {
		s.cp, err = readCheckpoint(s.snap)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Checkpoint returns how far the snapshot's read model had applied the
// journal.
func (s *Snapshot) Checkpoint() Checkpoint { return s.cp }

// Close releases the snapshot and closes the store.
func (s *Snapshot) Close() error {
	return errors.Join(s.snap.Close(), s.db.Close())
}

// scan calls fn with each key and value with prefix p, in key order.
func (s *Snapshot) scan(ctx context.Context, p []byte, fn func(k, v []byte) error) error {
	it, err := s.snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			it.Close()
			return err
		}
		if err := fn(it.Key()[len(p):], it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// Assets calls fn with every asset, by code.
func (s *Snapshot) Assets(ctx context.Context, fn func(AssetRow) error) error {
	err := s.scan(ctx, []byte{famAsset}, func(k, v []byte) error {
		a, err := decodeAsset(v)
		if err != nil {
			return err
		}
		return fn(AssetRow{Code: string(k), Scale: a.scale, Seq: a.seq})
	})
	if err != nil {
		return fmt.Errorf("read model assets: %w", err)
	}
	return nil
}

// Accounts calls fn with every account row, by asset and id, with the
// balance and sequence of its latest entry (see Store.Account).
func (s *Snapshot) Accounts(ctx context.Context, fn func(AccountRow) error) error {
	err := s.scan(ctx, []byte{famAccountBy}, func(k, _ []byte) error {
		asset, rest, ok := readEscaped(k)
		id, _, ok2 := readEscaped(rest)
		if !ok || !ok2 {
			return errCorruptRow
		}
		acc, err := lookupAccount(s.snap, id, asset)
		if errors.Is(err, ErrNotFound) {
			return nil // an index entry without its row: the row is what counts
		}
		if err != nil {
			return err
		}
		r := AccountRow{ID: id, Asset: acc.asset, OverdraftLimit: acc.overdraftLimit, CreatedSeq: acc.createdSeq}
		if r.Seq, r.Balance, err = latestEntry(s.snap, id, acc.asset, acc.createdSeq, acc.scale); err != nil {
			return err
		}
		return fn(r)
	})
	if err != nil {
		return fmt.Errorf("read model accounts: %w", err)
	}
	return nil
}

// transfers calls fn with every transfer row of one status, in sequence
// order.
func (s *Snapshot) transfers(ctx context.Context, status byte, fn func(*transferRow) error) error {
	return s.scan(ctx, []byte{famTransfer}, func(k, v []byte) error {
		if len(k) != 8 || len(v) == 0 || v[0] != status {
			return nil
		}
		row, err := decodeTransfer(readSeq(k), v)
		if err != nil {
			return err
		}
		return fn(&row)
	})
}

// Postings calls fn with every posted transfer, in sequence order, each
// with the balances its two entries record (four for a conversion).
func (s *Snapshot) Postings(ctx context.Context, fn func(PostingRow) error) error {
	err := s.transfers(ctx, statusPosted, func(t *transferRow) error {
		r := PostingRow{Seq: t.seq, Hash: t.hash, ID: t.id, From: t.from, To: t.to, Amount: t.amount, Asset: t.asset,
			Reference: t.reference, AtUnixNanos: t.at, DebitBalance: t.debitBalance, CreditBalance: t.creditBalance,
			ExchangeRate: t.exchangeRate, ToAsset: t.toAsset, ToAmount: t.toAmount,
			FXCreditBalance: t.fxCreditBalance, FXDebitBalance: t.fxDebitBalance}
		var err error
		if r.Metadata, err = decodeMetadata(t.meta); err != nil {
			return fmt.Errorf("sequence %d: %w", t.seq, err)
		}
		return fn(r)
	})
	if err != nil {
		return fmt.Errorf("read model postings: %w", err)
	}
	return nil
}

// CountEntries returns the number of entries in the read model's entry
// indexes: two per posted transfer, four per conversion (its FX legs are
// in their own family).
func (s *Snapshot) CountEntries(ctx context.Context) (uint64, error) {
	var n uint64
	count := func([]byte, []byte) error {
		n++
		return nil
	}
	for _, fam := range [...]byte{famEntry, famFXEntry} {
		if err := s.scan(ctx, []byte{fam}, count); err != nil {
			return 0, fmt.Errorf("read model entries: %w", err)
		}
	}
	return n, nil
}
