package projections

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
	stmtInsertEntry
	stmtSetBalance
	stmtLastClock
	stmtInsertClock
	stmtSetCheckpoint
	stmtInsertEntries // entriesPerInsert rows at once
	numWriteStmts
)

// entriesPerInsert is how many entry rows one multi-row INSERT carries:
// the statement overhead, not the rows, dominates the projection's cost.
// 32 rows x 9 columns stays far below SQLite's parameter limit.
const entriesPerInsert = 32

var writeSQL = [numWriteStmts]string{
	stmtInsertAsset: `INSERT INTO assets (code, scale, seq, created_at) VALUES (?, ?, ?, ?)`,
	stmtInsertAccount: `INSERT INTO accounts (id, asset, balance, overdraft_limit, owner, metadata, created_at, created_seq, seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	stmtAssetScale: `SELECT scale FROM assets WHERE code = ?`,
	// A posting replaces a rejection of the same id, never a posting: the
	// WHERE leaves a posted row alone and reports no row changed.
	stmtUpsertPosted: `INSERT INTO transfers (seq, id, status, from_account, to_account, amount, asset, reference, metadata, at, code, detail)
		VALUES (?, ?, 'posted', ?, ?, ?, ?, ?, ?, ?, '', '')
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, status = 'posted', from_account = excluded.from_account,
			to_account = excluded.to_account, amount = excluded.amount, asset = excluded.asset,
			reference = excluded.reference, metadata = excluded.metadata, at = excluded.at, code = '', detail = ''
		WHERE transfers.status = 'rejected'`,
	stmtUpsertRejected: `INSERT INTO transfers (seq, id, status, from_account, to_account, amount, asset, reference, metadata, at, code, detail)
		VALUES (?, ?, 'rejected', ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, from_account = excluded.from_account,
			to_account = excluded.to_account, amount = excluded.amount, asset = excluded.asset,
			reference = excluded.reference, metadata = excluded.metadata, at = excluded.at,
			code = excluded.code, detail = excluded.detail
		WHERE transfers.status = 'rejected'`,
	stmtInsertEntry: `INSERT INTO entries (account, asset, seq, transfer_id, type, amount, balance, reference, posted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	stmtSetBalance:    `UPDATE accounts SET balance = ?, seq = ? WHERE id = ? AND asset = ?`,
	stmtLastClock:     `SELECT at FROM clock ORDER BY at DESC LIMIT 1`,
	stmtInsertClock:   `INSERT INTO clock (at, seq) VALUES (?, ?)`,
	stmtSetCheckpoint: `UPDATE checkpoint SET seq = ?, position = ? WHERE id = 1`,
	stmtInsertEntries: `INSERT INTO entries (account, asset, seq, transfer_id, type, amount, balance, reference, posted_at) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", entriesPerInsert), ", "),
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
