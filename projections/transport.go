package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/infra/journalio"
)

// The watermill transport: a watermill-nats JetStream Subscriber reading
// the journal stream from a position, through an ephemeral consumer of our
// own making and an unmarshaler that keeps the record's position and
// sequence headers.

// Watermill message metadata keys set by recordUnmarshaler.
const (
	metaPosition = "ledger_position"  // the record's journal stream sequence
	metaFirstSeq = "ledger_first_seq" // Ledger-First-Seq
	metaLastSeq  = "ledger_last_seq"  // Ledger-Last-Seq
	metaType     = "ledger_type"      // the events' type, from the subject
	metaError    = "ledger_error"     // why the record could not be read
)

// Consumer limits.
const (
	// consumerAckWait is how long the server waits for an ack before it
	// redelivers; longer than applyTimeout, so a slow apply is not
	// delivered twice (a redelivery would be skipped anyway).
	consumerAckWait = 2 * time.Minute
	// consumerMaxAckPending bounds the records delivered and not yet acked.
	consumerMaxAckPending = 1_000
	// consumerInactiveThreshold is how long the server keeps a consumer
	// nobody pulls from: the backstop that removes the consumer of a
	// projector that died without deleting it.
	consumerInactiveThreshold = 30 * time.Second
	// prefetchBytes bounds the journal bytes buffered ahead of the
	// projector in the client (PullMaxBytes), whatever the record size: a
	// record is at most 8 MiB (the server's payload limit).
	prefetchBytes = 32 << 20
	// consumerDeleteTimeout bounds deleting the consumer on stop.
	consumerDeleteTimeout = 5 * time.Second
)

// recordUnmarshaler turns a journal message into a watermill message whose
// payload is the record and whose metadata carries its position and
// sequences. It never returns a nil message: watermill-nats logs an
// unmarshal error and delivers the message anyway, so the error also goes
// into metaError for the projector to refuse the record.
type recordUnmarshaler struct{}

func (recordUnmarshaler) Unmarshal(msg jetstream.Msg) (*message.Message, error) {
	rec, err := journalio.RecordOf(msg)
	if err == nil && rec.Position == 0 {
		err = errors.New("journal message without a stream position")
	}
	m := message.NewMessage("journal-"+strconv.FormatUint(rec.Position, 10), rec.Data)
	m.Metadata.Set(metaPosition, strconv.FormatUint(rec.Position, 10))
	m.Metadata.Set(metaFirstSeq, strconv.FormatUint(rec.FirstSeq, 10))
	m.Metadata.Set(metaLastSeq, strconv.FormatUint(rec.LastSeq, 10))
	m.Metadata.Set(metaType, string(rec.Type))
	if err != nil {
		m.Metadata.Set(metaError, err.Error())
	}
	return m, err
}

// consumerFrom returns a ResourceInitializer that creates an ephemeral
// consumer on the journal stream (the topic) starting at position start,
// acked explicitly, in memory (it is recreated from the checkpoint on every
// start, so it need not survive a server restart). Its closer deletes the
// consumer over the shared connection js, because the subscriber's own
// connection is being drained when the closer runs. The consumer is gated
// (see gate).
func consumerFrom(js jetstream.JetStream, start uint64, g *journalio.Gate, logger *slog.Logger) func(context.Context, jetstream.JetStream, string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
	return func(ctx context.Context, subJS jetstream.JetStream, stream string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
		cfg := jetstream.ConsumerConfig{
			Name:              "projections_" + watermill.NewShortUUID(),
			Description:       "read-model projector (ephemeral)",
			DeliverPolicy:     jetstream.DeliverAllPolicy,
			AckPolicy:         jetstream.AckExplicitPolicy,
			AckWait:           consumerAckWait,
			MaxDeliver:        -1,
			MaxAckPending:     consumerMaxAckPending,
			InactiveThreshold: consumerInactiveThreshold,
			MemoryStorage:     true,
			Replicas:          1,
		}
		if start > 1 {
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
		}
		cons, err := subJS.CreateConsumer(ctx, stream, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("journal consumer from %d: %w", start, err)
		}
		closer := func(context.Context, watermill.LoggerAdapter) {
			ctx, cancel := context.WithTimeout(context.Background(), consumerDeleteTimeout)
			defer cancel()
			if err := js.DeleteConsumer(ctx, stream, cfg.Name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
				// The server removes it after consumerInactiveThreshold.
				logger.Debug("delete projector consumer", "consumer", cfg.Name, "err", err)
			}
		}
		return journalio.GatedConsumer{Consumer: cons, Gate: g}, closer, nil
	}
}

// subscriberOptions returns the options of the subscriber's own connection:
// the shared connection's, without its event callbacks (they belong to the
// shared connection's owner, who should not hear of ours closing).
// watermill-nats's Subscriber.Close drains the connection it was given, so
// it must never be given the shared one.
func subscriberOptions(nc *nats.Conn) nats.Options {
	opts := nc.Opts
	opts.Name = "ledger-projector"
	opts.ClosedCB, opts.DisconnectedCB, opts.DisconnectedErrCB = nil, nil, nil
	opts.ConnectedCB, opts.ReconnectedCB, opts.DiscoveredServersCB = nil, nil, nil
	opts.AsyncErrorCB, opts.ReconnectErrCB, opts.LameDuckModeHandler = nil, nil, nil
	return opts
}
