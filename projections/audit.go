package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Snapshot is a read model opened for an audit: read-only, and every
// query runs in one read transaction, so all its answers come from the
// same committed state even while a projector keeps writing the file.
// Methods may be called from several goroutines: they share the
// transaction's connection, which database/sql serialises.
type Snapshot struct {
	db *sql.DB
	tx *sql.Tx
	cp Checkpoint
}

// AssetRow is one row of the assets table.
type AssetRow struct {
	Code  string
	Scale int
	Seq   uint64 // the sequence that defined it
}

// AccountRow is one row of the accounts table: the issuer account "world"
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
// with the balances after its two
// entries, as the read model has them. DebitBalance or CreditBalance is
// empty when the entry is missing.
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
}

// OpenSnapshot opens the read model at path for reading only and takes
// its snapshot. It does not create the file: a missing file is an error
// wrapping os.ErrNotExist. Close it to end the read transaction.
func OpenSnapshot(ctx context.Context, path string) (*Snapshot, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open read model: path %q must be a plain file name", path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open read model: %w", err)
	}
	db, err := sql.Open("sqlite", fmt.Sprintf("%s?_busy_timeout=%d&_query_only=1", path, busyTimeoutMillis))
	if err != nil {
		return nil, fmt.Errorf("open read model: %w", err)
	}
	db.SetMaxOpenConns(1)
	s := &Snapshot{db: db}
	if err := s.begin(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Snapshot) begin(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("open read model: %w", err)
	}
	if version != schemaVersion {
		return fmt.Errorf("open read model: schema version %d, want %d: %w", version, schemaVersion, ErrSchemaVersion)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("open read model: %w", err)
	}
	// The first read fixes the snapshot that every later query sees.
	if s.cp, err = readCheckpoint(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	s.tx = tx
	return nil
}

// Checkpoint returns how far the snapshot's read model had applied the
// journal.
func (s *Snapshot) Checkpoint() Checkpoint { return s.cp }

// Assets calls fn with every asset, by code.
func (s *Snapshot) Assets(ctx context.Context, fn func(AssetRow) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT code, scale, seq FROM assets ORDER BY code`)
	if err != nil {
		return fmt.Errorf("read model assets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r AssetRow
		var seq int64
		if err := rows.Scan(&r.Code, &r.Scale, &seq); err != nil {
			return fmt.Errorf("read model assets: %w", err)
		}
		r.Seq = uint64(seq)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// accountsPage bounds the account rows Accounts holds at once: their
// balances are read after the page's cursor is closed (the snapshot has
// one connection), so a million accounts never sit in memory together.
const accountsPage = 1_000

// Accounts calls fn with every account row, by asset and id, with the
// balance and sequence of its latest entry (see Store.Account).
func (s *Snapshot) Accounts(ctx context.Context, fn func(AccountRow) error) error {
	type account struct {
		row   AccountRow
		scale int
	}
	page := make([]account, 0, accountsPage)
	var afterAsset, afterID string
	for first := true; first || len(page) == accountsPage; first = false {
		page = page[:0]
		rows, err := s.tx.QueryContext(ctx, `SELECT a.id, a.asset, a.overdraft_limit, a.created_seq, s.scale
			FROM accounts a JOIN assets s ON s.code = a.asset WHERE (a.asset, a.id) > (?, ?)
			ORDER BY a.asset, a.id LIMIT ?`, afterAsset, afterID, accountsPage)
		if err != nil {
			return fmt.Errorf("read model accounts: %w", err)
		}
		for rows.Next() {
			var a account
			var created int64
			if err := rows.Scan(&a.row.ID, &a.row.Asset, &a.row.OverdraftLimit, &created, &a.scale); err != nil {
				rows.Close()
				return fmt.Errorf("read model accounts: %w", err)
			}
			a.row.CreatedSeq = uint64(created)
			page = append(page, a)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("read model accounts: %w", err)
		}
		for _, a := range page {
			r := a.row
			if r.Seq, r.Balance, err = latestEntry(ctx, s.tx, r.ID, r.Asset, r.CreatedSeq, a.scale); err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
			afterAsset, afterID = r.Asset, r.ID
		}
	}
	return nil
}

// Postings calls fn with every posted transfer, in sequence order, each
// with the balances its two entries record.
func (s *Snapshot) Postings(ctx context.Context, fn func(PostingRow) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT seq, id, from_account, to_account, amount, asset, reference, metadata, at,
		COALESCE(debit_balance, ''), COALESCE(credit_balance, ''), COALESCE(exchange_rate, ''), COALESCE(to_asset, ''),
		COALESCE(to_amount, ''), COALESCE(fx_credit_balance, ''), COALESCE(fx_debit_balance, '')
		FROM transfers WHERE status = 'posted' ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("read model postings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r PostingRow
		var seq int64
		var meta sql.NullString
		if err := rows.Scan(&seq, &r.ID, &r.From, &r.To, &r.Amount, &r.Asset, &r.Reference, &meta, &r.AtUnixNanos,
			&r.DebitBalance, &r.CreditBalance, &r.ExchangeRate, &r.ToAsset, &r.ToAmount,
			&r.FXCreditBalance, &r.FXDebitBalance); err != nil {
			return fmt.Errorf("read model postings: %w", err)
		}
		r.Seq = uint64(seq)
		if r.Metadata, err = decodeMetadata(meta); err != nil {
			return fmt.Errorf("read model postings: sequence %d: %w", seq, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountEntries returns the number of entries: two per posted transfer,
// each of which carries the balances after both (see the schema), four
// per converted one.
func (s *Snapshot) CountEntries(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN to_asset IS NULL THEN 2 ELSE 4 END), 0)
		FROM transfers WHERE status = 'posted'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read model entries: %w", err)
	}
	return uint64(n), nil
}

// Close ends the read transaction and closes the file.
func (s *Snapshot) Close() error {
	var err error
	if s.tx != nil {
		if rerr := s.tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			err = rerr
		}
	}
	return errors.Join(err, s.db.Close())
}

// CompactForInstall checkpoints the write-ahead log of the read model at
// path into the main file and switches it out of WAL mode, so that the
// file alone holds the whole read model and can be renamed into place.
// Nothing else may have the file open.
func CompactForInstall(ctx context.Context, path string) error {
	if path == "" || strings.ContainsAny(path, "?#") {
		return fmt.Errorf("compact read model: path %q must be a plain file name", path)
	}
	db, err := sql.Open("sqlite", fmt.Sprintf("%s?_busy_timeout=%d", path, busyTimeoutMillis))
	if err != nil {
		return fmt.Errorf("compact read model: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA journal_mode=DELETE"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("compact read model: %s: %w", q, err)
		}
	}
	return nil
}
