package subscriber

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/nats-ledger/ledger/domain"
)

// Feed follows the journal for many short-lived readers, each with an
// ephemeral subscription of its own: JetStream does the fan-out, and a
// reader that falls behind slows nobody else. The HTTP event stream
// (GET /v1/events) uses one per client.
type Feed struct {
	conn   *nats.Conn
	ledger string
	log    *slog.Logger
}

// NewFeed returns a Feed of the journal of ledger on nc's server.
func NewFeed(nc *nats.Conn, ledger string, logger *slog.Logger) *Feed {
	return &Feed{conn: nc, ledger: ledger, log: logger}
}

// Follow calls fn with every event of the given types (every type when
// empty) whose sequence is at least from, in ledger order; with from 0,
// only events appended after the call. It returns nil when ctx ends and
// fn's error when fn fails. line is the event as stored.
func (f *Feed) Follow(ctx context.Context, from uint64, types []domain.EventType, fn func(line []byte, ev *domain.Event) error) error {
	start := FromSequence(from)
	if from == 0 {
		start = NewOnly()
	}
	sub, err := New(Config{Conn: f.conn, Ledger: f.ledger, Start: start, Types: types, Logger: f.log})
	if err != nil {
		return err
	}
	return sub.Run(ctx, func(_ context.Context, ev Event) error { return fn(ev.Line, ev.Event) })
}
