package projections

import (
	"context"
	"fmt"
)

// RejectionRow is a rejected transfer as the read model has it: the
// request as it was made and why it was refused.
type RejectionRow struct {
	Seq                                    uint64 // the rejection's sequence
	ID, From, To, Amount, Asset, Reference string
	Metadata                               map[string]string // empty when the row has none
	AtUnixNanos                            int64
	Code, Detail                           string
	Hash                                   string // the journal hash the row keeps for its event, hex ("" for none)
}

// ClockRow is one entry of the journal clock: the first sequence at a
// time.
type ClockRow struct {
	UnixNanos int64
	Seq       uint64
}

// Rejections calls fn with every rejected transfer, in sequence order.
func (s *Snapshot) Rejections(ctx context.Context, fn func(RejectionRow) error) error {
	err := s.transfers(ctx, statusRejected, func(t *transferRow) error {
		if ok, err := liveRejection(s.snap, t); err != nil || !ok {
			return err // a dead row: its id was posted since
		}
		r := RejectionRow{Seq: t.seq, Hash: t.hash, ID: t.id, From: t.from, To: t.to, Amount: t.amount, Asset: t.asset,
			Reference: t.reference, AtUnixNanos: t.at, Code: t.code, Detail: t.detail}
		var err error
		if r.Metadata, err = decodeMetadata(t.meta); err != nil {
			return fmt.Errorf("sequence %d: %w", t.seq, err)
		}
		return fn(r)
	})
	if err != nil {
		return fmt.Errorf("read model rejections: %w", err)
	}
	return nil
}

// Clock calls fn with every entry of the clock, in time order (which is
// also sequence order: the clock is monotonic).
func (s *Snapshot) Clock(ctx context.Context, fn func(ClockRow) error) error {
	err := s.scan(ctx, []byte{famClock}, func(k, v []byte) error {
		if len(k) != 8 || len(v) != 8 {
			return errCorruptRow
		}
		return fn(ClockRow{UnixNanos: readTime(k), Seq: readSeq(v)})
	})
	if err != nil {
		return fmt.Errorf("read model clock: %w", err)
	}
	return nil
}
