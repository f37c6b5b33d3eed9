package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/nats-ledger/ledger/domain"
)

// selectTransfer reads a transfer with the balances after its two entries
// (NULL for a rejection).
const selectTransfer = `SELECT t.seq, t.id, t.status, t.from_account, t.to_account, t.amount, t.asset, t.reference,
	t.metadata, t.at, t.code, t.detail, t.debit_balance, t.credit_balance,
	t.exchange_rate, t.to_asset, t.to_amount, t.fx_credit_balance, t.fx_debit_balance
FROM transfers t
`

// Transfer returns the transfer id, posted or rejected. ErrNotFound when
// the read model has neither.
func (s *Store) Transfer(ctx context.Context, id string) (TransferView, error) {
	rows, err := s.r.QueryContext(ctx, selectTransfer+"WHERE t.id = ?", id)
	if err != nil {
		return TransferView{}, fmt.Errorf("transfer %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return TransferView{}, fmt.Errorf("transfer %s: %w", id, err)
		}
		return TransferView{}, ErrNotFound
	}
	return scanTransfer(rows)
}

// Transfers returns a page of transfers, posted and rejected, newest first
// (by ledger sequence), filtered by f. ErrBadCursor, ErrBadLimit.
func (s *Store) Transfers(ctx context.Context, f TransferFilter) (Page[TransferView], error) {
	page := Page[TransferView]{Data: []TransferView{}}
	if err := checkLimit(f.Limit); err != nil {
		return page, err
	}
	below, err := decodeCursor(f.Cursor)
	if err != nil {
		return page, err
	}
	q, args := transfersQuery(f, below)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return page, fmt.Errorf("transfers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanTransfer(rows)
		if err != nil {
			return page, err
		}
		page.Data = append(page.Data, v)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("transfers: %w", err)
	}
	if len(page.Data) > f.Limit {
		page.Data = page.Data[:f.Limit]
		page.NextCursor = encodeCursor(page.Data[f.Limit-1].Sequence)
	}
	return page, nil
}

// transfersQuery builds the listing's statement. Every filter but Account
// is a condition on one row; the time bounds become sequence bounds
// through the journal clock (see seqFrom), so that they are rowid ranges.
// Account (either side) is the union of two index-ordered scans, each
// limited to the page: the newest n of a union are among the newest n of
// each side, so a page costs O(n) whatever the account's history (an OR
// would make SQLite collect and sort all of it).
func transfersQuery(f TransferFilter, below int64) (string, []any) {
	var cond strings.Builder
	cond.WriteString("t.seq < ?")
	args := []any{below}
	and := func(c string, a ...any) {
		cond.WriteString(" AND ")
		cond.WriteString(c)
		args = append(args, a...)
	}
	switch f.Status {
	case StatusAll:
	case StatusRejected:
		and("t.status = ?", StatusRejected)
	default:
		and("t.status = ?", StatusPosted)
	}
	if f.From != "" {
		and("t.from_account = ?", f.From)
	}
	if f.To != "" {
		and("t.to_account = ?", f.To)
	}
	switch {
	case f.Asset == "":
	case f.Account != "" || f.From != "" || f.To != "":
		// The unary + keeps SQLite (which has no statistics) from
		// preferring the asset index to the more selective account ones.
		and("+t.asset = ?", f.Asset)
	default:
		and("t.asset = ?", f.Asset)
	}
	if f.Reference != "" {
		and(`t.reference LIKE ? ESCAPE '\'`, "%"+escapeLike(f.Reference)+"%")
	}
	if !f.Since.IsZero() {
		and("t.seq >= "+seqFrom, nanosOf(f.Since))
	}
	if !f.Until.IsZero() {
		and("t.seq < "+seqFrom, nanosOf(f.Until))
	}
	n := f.Limit + 1
	if f.Account == "" {
		return selectTransfer + "WHERE " + cond.String() + " ORDER BY t.seq DESC LIMIT ?", append(args, n)
	}
	side := func(col, index string) string {
		return "SELECT seq FROM (SELECT t.seq FROM transfers t INDEXED BY " + index + " WHERE t." + col + " = ? AND " +
			cond.String() + " ORDER BY t.seq DESC LIMIT ?)"
	}
	q := selectTransfer + "WHERE t.seq IN (" + side("from_account", "transfers_from") + " UNION ALL " + side("to_account", "transfers_to") +
		") ORDER BY t.seq DESC LIMIT ?"
	all := make([]any, 0, 2*len(args)+5)
	all = append(all, f.Account)
	all = append(all, args...)
	all = append(all, n, f.Account)
	all = append(all, args...)
	return q, append(all, n, n)
}

// seqFrom is the first ledger sequence at or after a time (the parameter,
// Unix nanoseconds) by the journal clock, or past every sequence when the
// journal has nothing that late. The clock is the events' time clamped to
// be monotonic (see applier.tick), so "since T" and "until T" select a
// contiguous run of sequences; under a clock that never steps back that is
// exactly the transfers whose own time is in the range.
const seqFrom = "COALESCE((SELECT ck.seq FROM clock ck WHERE ck.at >= ? ORDER BY ck.at LIMIT 1), 9223372036854775807)"

// escapeLike makes s match literally inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func scanTransfer(rows *sql.Rows) (TransferView, error) {
	var v TransferView
	var seq, at int64
	var meta, debitBal, creditBal, rate, toAsset, toAmount, fxCredit, fxDebit sql.NullString
	err := rows.Scan(&seq, &v.ID, &v.Status, &v.From, &v.To, &v.Amount, &v.Asset, &v.Reference,
		&meta, &at, &v.Code, &v.Detail, &debitBal, &creditBal, &rate, &toAsset, &toAmount, &fxCredit, &fxDebit)
	if err != nil {
		return v, fmt.Errorf("transfer: %w", err)
	}
	if v.Metadata, err = decodeMetadata(meta); err != nil {
		return v, err
	}
	v.Sequence, v.ExchangeRate = uint64(seq), rate.String
	v.Memo = domain.IsMemoAmount(v.Amount)
	t := fromNanos(at)
	switch v.Status {
	case StatusPosted:
		if !debitBal.Valid || !creditBal.Valid {
			return v, fmt.Errorf("transfer %s: entries missing: %w", v.ID, domain.ErrInconsistent)
		}
		v.PostedAt = &t
		v.Entries = []domain.Entry{
			{Account: v.From, Type: domain.Debit, Amount: v.Amount, Balance: debitBal.String},
			{Account: v.To, Type: domain.Credit, Amount: v.Amount, Balance: creditBal.String},
		}
		if toAsset.Valid {
			v.ToAsset, v.ToAmount = toAsset.String, toAmount.String
			v.Entries = []domain.Entry{v.Entries[0],
				{Account: domain.FX, Type: domain.Credit, Amount: v.Amount, Balance: fxCredit.String},
				{Account: domain.FX, Type: domain.Debit, Amount: v.ToAmount, Balance: fxDebit.String},
				{Account: v.To, Type: domain.Credit, Amount: v.ToAmount, Balance: creditBal.String},
			}
		}
	case StatusRejected:
		v.RejectedAt = &t
	}
	return v, nil
}
