package projections

import (
	"context"
	"database/sql"
	"fmt"
)

// RejectionRow is a rejected transfer as the read model has it: a
// transfers row with status 'rejected', holding the request as it was
// made and why it was refused.
type RejectionRow struct {
	Seq                                    uint64 // the rejection's sequence
	ID, From, To, Amount, Asset, Reference string
	Metadata                               map[string]string // empty when the row has none
	AtUnixNanos                            int64
	Code, Detail                           string
}

// ClockRow is one row of the clock table: the first sequence at a time.
type ClockRow struct {
	UnixNanos int64
	Seq       uint64
}

// Rejections calls fn with every rejected transfer, in sequence order.
func (s *Snapshot) Rejections(ctx context.Context, fn func(RejectionRow) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT seq, id, from_account, to_account, amount, asset, reference,
		metadata, at, code, detail FROM transfers WHERE status = 'rejected' ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("read model rejections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r RejectionRow
		var seq int64
		var meta sql.NullString
		if err := rows.Scan(&seq, &r.ID, &r.From, &r.To, &r.Amount, &r.Asset, &r.Reference,
			&meta, &r.AtUnixNanos, &r.Code, &r.Detail); err != nil {
			return fmt.Errorf("read model rejections: %w", err)
		}
		r.Seq = uint64(seq)
		if r.Metadata, err = decodeMetadata(meta); err != nil {
			return fmt.Errorf("read model rejections: sequence %d: %w", seq, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Clock calls fn with every row of the clock, in time order (which is
// also sequence order: the clock is monotonic).
func (s *Snapshot) Clock(ctx context.Context, fn func(ClockRow) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT at, seq FROM clock ORDER BY at`)
	if err != nil {
		return fmt.Errorf("read model clock: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ClockRow
		var seq int64
		if err := rows.Scan(&r.UnixNanos, &seq); err != nil {
			return fmt.Errorf("read model clock: %w", err)
		}
		r.Seq = uint64(seq)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
