package projections

import (
	"context"

	"github.com/nats-ledger/ledger/domain"
)

// Hooks for the black-box tests in package projections_test.

// ApplyRecord applies one journal record, as ApplyRecords does.
func (s *Store) ApplyRecord(ctx context.Context, position uint64, events []*domain.Event) error {
	return s.ApplyRecords(ctx, []Record{{Position: position, Events: events}})
}
