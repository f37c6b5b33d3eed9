package commands

import (
	"context"
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// ReadEvents, for the tests, reads the whole journal, verifies every event's place in the
// hash chain, decodes it and calls fn with it, in order. It returns the last
// event's hash and the last record's position. A verification failure
// wraps ErrCorruptJournal and names the record and sequence.
func ReadEvents(ctx context.Context, j Journal, fn func(*domain.Event) error) (domain.Hash, uint64, error) {
	var prev domain.Hash
	var seq uint64
	pos, err := j.Replay(ctx, func(r domain.Record) error {
		lines, err := domain.SplitRecord(r.Data)
		if err != nil {
			return fmt.Errorf("record %d: %w: %w", r.Position, ErrCorruptJournal, err)
		}
		for _, line := range lines {
			h, err := domain.VerifyLine(line, prev)
			if err != nil {
				return fmt.Errorf("record %d after sequence %d: %w: %w", r.Position, seq, ErrCorruptJournal, err)
			}
			ev, err := domain.DecodeEvent(line)
			if err != nil {
				return fmt.Errorf("record %d after sequence %d: %w: %w", r.Position, seq, ErrCorruptJournal, err)
			}
			if ev.Seq != seq+1 {
				return fmt.Errorf("record %d: sequence %d follows %d: %w: %w", r.Position, ev.Seq, seq, ErrCorruptJournal, domain.ErrSequenceGap)
			}
			if err := fn(ev); err != nil {
				return fmt.Errorf("record %d: %w", r.Position, err)
			}
			prev, seq = h, ev.Seq
		}
		return nil
	})
	return prev, pos, err
}
