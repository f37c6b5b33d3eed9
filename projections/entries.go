package projections

import (
	"context"
	"fmt"
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
	rows, err := tx.QueryContext(ctx, `SELECT transfer_id, seq, type, amount, balance, reference, posted_at
		FROM entries WHERE account = ? AND asset = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
		account, acc.asset, below, limit+1)
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
