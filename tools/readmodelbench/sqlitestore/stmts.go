package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The write statements, prepared once on the writer connection and bound
// to each record's transaction.
const (
	stmtInsertAsset = iota
	stmtInsertAccount
	stmtAssetScale
	stmtUpsertPosted
	stmtUpsertRejected
	stmtAccountExists
	stmtLastClock
	stmtInsertClock
	stmtSetCheckpoint
	stmtUpsertPostedMany // postedPerInsert rows at once
	stmtSetAccountMetadata
	numWriteStmts
)

// postedPerInsert is how many posted transfers one multi-row upsert
// carries: the statement overhead, not the rows, dominates the
// projection's cost. 32 rows x 11 columns stays far below SQLite's
// parameter limit.
const postedPerInsert = 32

// postedColumns is the number of values of one posted row.
const postedColumns = 11

// upsertPosted is the head of the posted-transfer upsert; the VALUES rows
// follow it, then postedConflict. A posting replaces a rejection of the
// same id, never a posting: the WHERE leaves a posted row alone and
// reports no row changed, which the applier turns into an error.
const upsertPosted = `INSERT INTO transfers (seq, id, status, from_account, to_account, amount, asset, reference, metadata, at,
	debit_balance, credit_balance, code, detail) VALUES `

const postedRow = `(?, ?, 'posted', ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')`

const postedConflict = ` ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, status = 'posted', from_account = excluded.from_account,
	to_account = excluded.to_account, amount = excluded.amount, asset = excluded.asset,
	reference = excluded.reference, metadata = excluded.metadata, at = excluded.at,
	debit_balance = excluded.debit_balance, credit_balance = excluded.credit_balance, code = '', detail = ''
	WHERE transfers.status = 'rejected'`

var writeSQL = [numWriteStmts]string{
	stmtInsertAsset: `INSERT INTO assets (code, scale, seq, created_at) VALUES (?, ?, ?, ?)`,
	stmtInsertAccount: `INSERT INTO accounts (id, asset, overdraft_limit, owner, metadata, created_at, created_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
	stmtAssetScale:       `SELECT scale FROM assets WHERE code = ?`,
	stmtUpsertPosted:     upsertPosted + postedRow + postedConflict,
	stmtUpsertPostedMany: upsertPosted + strings.TrimSuffix(strings.Repeat(postedRow+", ", postedPerInsert), ", ") + postedConflict,
	stmtUpsertRejected: `INSERT INTO transfers (seq, id, status, from_account, to_account, amount, asset, reference, metadata, at, code, detail)
		VALUES (?, ?, 'rejected', ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, from_account = excluded.from_account,
			to_account = excluded.to_account, amount = excluded.amount, asset = excluded.asset,
			reference = excluded.reference, metadata = excluded.metadata, at = excluded.at,
			code = excluded.code, detail = excluded.detail
		WHERE transfers.status = 'rejected'`,
	stmtAccountExists: `SELECT 1 FROM accounts WHERE id = ? AND asset = ?`,
	stmtLastClock:     `SELECT at FROM clock ORDER BY at DESC LIMIT 1`,
	stmtInsertClock:   `INSERT INTO clock (at, seq) VALUES (?, ?)`,
	stmtSetCheckpoint: `UPDATE checkpoint SET seq = ?, position = ? WHERE id = 1`,
	// The issuer account (one row per asset) has no metadata to change.
	stmtSetAccountMetadata: `UPDATE accounts SET metadata = ? WHERE id = ? AND id != 'world'`,
}

type writeStmts struct {
	s [numWriteStmts]*sql.Stmt
}

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for i, q := range writeSQL {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			w.close()
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		w.s[i] = st
	}
	return nil
}

func (w *writeStmts) close() {
	for i, st := range w.s {
		if st != nil {
			st.Close()
			w.s[i] = nil
		}
	}
}
