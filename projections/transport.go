package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/journalio"
)

// The projector's side of the journal's watermill consumer (see
// journalio.Subscription): an ephemeral consumer of the journal stream
// starting after the checkpoint, and how far ahead of the projector it
// sends.

// Consumer limits.
const (
	// consumerAckWait is how long the server waits for an ack before it
	// redelivers; longer than applyTimeout, so a slow apply is not
	// delivered twice (a redelivery would be skipped anyway).
	consumerAckWait = 2 * time.Minute
	// consumerMaxAckPending bounds the records delivered and not yet acked.
	consumerMaxAckPending = 1_000
	// prefetchBytes bounds the journal bytes buffered ahead of the
	// projector in the client (PullMaxBytes), whatever the record size: a
	// record is at most 8 MiB (the server's payload limit).
	prefetchBytes = 32 << 20
)

// consumerFrom returns a journalio.ConsumerFunc that creates an ephemeral
// consumer on the journal stream starting at position start, acked
// explicitly (it is recreated from the checkpoint on every start, so it
// need not survive a server restart).
func consumerFrom(start uint64) journalio.ConsumerFunc {
	return func(ctx context.Context, js jetstream.JetStream, stream string) (jetstream.Consumer, bool, error) {
		cfg := journalio.Ephemeral(jetstream.ConsumerConfig{
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       consumerAckWait,
			MaxDeliver:    -1,
			MaxAckPending: consumerMaxAckPending,
			Replicas:      1,
		}, "projections_"+watermill.NewShortUUID(), "read-model projector (ephemeral)")
		if start > 1 {
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
		}
		cons, err := js.CreateConsumer(ctx, stream, cfg)
		if err != nil {
			return nil, false, fmt.Errorf("journal consumer from %d: %w", start, err)
		}
		return cons, true, nil
	}
}
