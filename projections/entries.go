package projections

import (
	"context"
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// Entries returns a page of the account's entries, newest first, each with
// the balance after it. asset matters only for "world" (see Account).
// cursor is empty for the first page or a NextCursor; limit is 1 to
// MaxPageLimit. ErrNotFound for an unknown account, ErrBadCursor,
// ErrBadLimit.
func (s *Store) Entries(ctx context.Context, account, asset, cursor string, limit int) (Page[EntryView], error) {
	page := Page[EntryView]{Data: []EntryView{}}
	if err := checkLimit(limit); err != nil {
		return page, err
	}
	below, err := decodeCursor(cursor)
	if err != nil {
		return page, err
	}
	// One read transaction: the account check and the page see the same
	// snapshot.
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return page, fmt.Errorf("entries of %s: %w", account, err)
	}
	defer tx.Rollback()
	acc, err := lookupAccount(ctx, tx, account, asset)
	if err != nil {
		return page, err
	}
	debit, credit := sidesOf(account)
	q := "SELECT id, seq, type, amount, balance, reference, at FROM (" + debit.query("seq < ?", "?") +
		" UNION ALL " + credit.query("seq < ?", "?") + ") ORDER BY seq DESC LIMIT ?"
	rows, err := tx.QueryContext(ctx, q, account, acc.asset, below, limit+1, account, acc.asset, below, limit+1, limit+1)
	if err != nil {
		return page, fmt.Errorf("entries of %s: %w", account, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e EntryView
		var seq, at int64
		if err := rows.Scan(&e.TransferID, &seq, &e.Type, &e.Amount, &e.Balance, &e.Reference, &at); err != nil {
			return page, fmt.Errorf("entries of %s: %w", account, err)
		}
		e.Sequence, e.PostedAt = uint64(seq), fromNanos(at)
		page.Data = append(page.Data, e)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("entries of %s: %w", account, err)
	}
	if len(page.Data) > limit {
		page.Data = page.Data[:limit]
		page.NextCursor = encodeCursor(page.Data[limit-1].Sequence)
	}
	return page, nil
}

// entrySide is one side of an account's entries: its posted transfers
// from it (debits) or to it (credits); for the FX account, the converted
// transfers' FX legs in the asset.
type entrySide struct{ where, typ, amount, balance, index string }

var (
	debitSide = entrySide{"from_account = ? AND +asset = ?", "debit", "amount", "debit_balance", "transfers_from"}
	// A conversion credits its recipient to_amount in to_asset.
	creditSide = entrySide{"to_account = ? AND COALESCE(to_asset, asset) = ?", "credit", "COALESCE(to_amount, amount)",
		"credit_balance", "transfers_to"}
	// The FX account's sides take the same parameters (account, asset);
	// the account is always "fx".
	fxCreditSide = entrySide{"'fx' = ? AND asset = ? AND to_asset IS NOT NULL", "credit", "amount", "fx_credit_balance", "transfers_fx_credit"}
	fxDebitSide  = entrySide{"'fx' = ? AND to_asset = ?", "debit", "to_amount", "fx_debit_balance", "transfers_fx_debit"}
)

// sidesOf returns the debit and credit sides of account id's entries.
func sidesOf(id string) (debit, credit entrySide) {
	if id == domain.FX {
		return fxDebitSide, fxCreditSide
	}
	return debitSide, creditSide
}

// query selects the side's entries of an account (parameters: account,
// asset, then those of cond, then those of limit) newest first through
// the side's index, limited, so that the union of both sides costs
// O(limit) whatever the account's history. The asset condition matters
// only for the issuer and FX accounts, which have entries in every asset;
// its unary + keeps SQLite on the account's index.
func (e entrySide) query(cond, limit string) string {
	return "SELECT * FROM (SELECT id, seq, '" + e.typ + "' AS type, " + e.amount + " AS amount, " + e.balance +
		" AS balance, reference, at FROM transfers INDEXED BY " + e.index + " WHERE " + e.where +
		" AND status = 'posted' AND " + cond + " ORDER BY seq DESC LIMIT " + limit + ")"
}
