package journalio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
)

// The watermill consumer of the journal, shared by the projector and the
// subscriber package: a watermill-nats JetStream subscriber on a connection
// of its own, reading one consumer of the journal stream behind a Gate,
// each message unpacked into a domain.Record. What differs between its
// users (which consumer, how far ahead the server sends, what a record
// means to them) is theirs to say in SubscriptionConfig.

// Subscription limits.
const (
	// ephemeralInactiveThreshold is how long the server keeps an
	// ephemeral consumer nobody pulls from: the backstop that removes the
	// consumer of a subscription that died without deleting it.
	ephemeralInactiveThreshold = 30 * time.Second
	// consumerDeleteTimeout bounds deleting an ephemeral consumer when its
	// subscription ends.
	consumerDeleteTimeout = 5 * time.Second
	// stopDrainTimeout bounds waiting for watermill's handler calls in
	// flight when a subscription ends (see Gate).
	stopDrainTimeout = 10 * time.Second
)

// ErrDrainTimeout means a subscription ended while watermill's handler was
// still running after stopDrainTimeout.
var ErrDrainTimeout = errors.New("journal subscription stop: watermill handler still busy")

// ConsumerFunc creates or resumes the JetStream consumer of stream that a
// subscription reads, over js (the subscription's own connection).
// ephemeral says the subscription owns the consumer: it is deleted when
// the subscription ends.
type ConsumerFunc func(ctx context.Context, js jetstream.JetStream, stream string) (cons jetstream.Consumer, ephemeral bool, err error)

// SubscriptionConfig configures Subscribe.
type SubscriptionConfig struct {
	// ConnOptions open the subscription's own connection (see
	// OwnConnOptions): watermill-nats drains the connection it reads from
	// when it closes, so it is never given a shared one.
	ConnOptions nats.Options
	// JS is on the shared connection: it deletes an ephemeral consumer
	// when the subscription ends, while the subscription's own connection
	// is draining.
	JS jetstream.JetStream
	// Stream is the journal stream's name.
	Stream string
	// Consumer creates or resumes the consumer to read.
	Consumer ConsumerFunc
	// HandlerWait is how long watermill waits for one record to be acked
	// or nacked before it gives up on it without either.
	HandlerWait time.Duration
	// ConsumeOptions are the pull options (prefetch bounds, error
	// handler).
	ConsumeOptions []jetstream.PullConsumeOpt
	// Logger hears of consumers that could not be deleted.
	Logger *slog.Logger
}

// OwnConnOptions returns the options of a subscription's own connection,
// named name: nc's, without its event callbacks (they belong to nc's
// owner, who should not hear of ours closing). Copy them when the
// component is built, after nc's owner has set its options.
func OwnConnOptions(nc *nats.Conn, name string) nats.Options {
	opts := nc.Opts
	opts.Name = name
	opts.ClosedCB, opts.DisconnectedCB, opts.DisconnectedErrCB = nil, nil, nil
	opts.ConnectedCB, opts.ReconnectedCB, opts.DiscoveredServersCB = nil, nil, nil
	opts.AsyncErrorCB, opts.ReconnectErrCB, opts.LameDuckModeHandler = nil, nil, nil
	return opts
}

// Ephemeral makes cfg the configuration of a consumer that lives as long
// as one subscription, named name: in memory (it is recreated on every
// start, so it need not survive a server restart) and removed by the
// server once nobody pulls from it, should its subscription die without
// deleting it.
func Ephemeral(cfg jetstream.ConsumerConfig, name, description string) jetstream.ConsumerConfig {
	cfg.Name, cfg.Description = name, description
	cfg.InactiveThreshold = ephemeralInactiveThreshold
	cfg.MemoryStorage = true
	return cfg
}

// Subscription is one watermill subscription of the journal. Read its
// records from Records, take each one's record with Take, ack or nack the
// message, and end it with Close.
type Subscription struct {
	sub     *wmjs.Subscriber
	records <-chan *message.Message
	gate    *Gate
	unm     *recordUnmarshaler
	cancel  context.CancelFunc
}

// delivery is what the unmarshaler read from a journal message.
type delivery struct {
	rec domain.Record
	msg jetstream.Msg
	err error
}

// Subscribe opens a subscription of cfg.Stream through cfg.Consumer. It
// lasts until Close, whatever becomes of ctx.
func Subscribe(ctx context.Context, cfg SubscriptionConfig) (*Subscription, error) {
	conn, err := cfg.ConnOptions.Connect()
	if err != nil {
		return nil, fmt.Errorf("journal subscription connection: %w", err)
	}
	s := &Subscription{gate: &Gate{}, unm: &recordUnmarshaler{}}
	sub, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{
		Conn:                conn,
		Logger:              watermill.NopLogger{}, // it logs every message at Info otherwise
		AckWaitTimeout:      cfg.HandlerWait,
		ResourceInitializer: s.resources(cfg),
		Unmarshaler:         s.unm,
		ConsumeOptions:      cfg.ConsumeOptions,
		// A lost ack means a redelivery, which every user of the journal
		// recognises by its position or sequences and skips.
		AckAsync: true,
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("journal subscriber: %w", err)
	}
	// The subscription's context is not ctx: ending it is the last step of
	// Close, after the gate has drained watermill's handler.
	subCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	records, err := sub.Subscribe(subCtx, cfg.Stream)
	if err != nil {
		cancel()
		_ = sub.Close()
		return nil, fmt.Errorf("subscribe to the journal: %w", err)
	}
	s.sub, s.records, s.cancel = sub, records, cancel
	return s, nil
}

// resources is the subscription's watermill ResourceInitializer: the
// consumer comes from cfg.Consumer, behind the gate; an ephemeral one is
// deleted when the subscription ends, over cfg.JS.
func (s *Subscription) resources(cfg SubscriptionConfig) wmjs.ResourceInitializer {
	return func(ctx context.Context, js jetstream.JetStream, stream string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
		cons, ephemeral, err := cfg.Consumer(ctx, js, stream)
		if err != nil {
			return nil, nil, err
		}
		var closer func(context.Context, watermill.LoggerAdapter)
		if ephemeral {
			name := cons.CachedInfo().Name
			closer = func(context.Context, watermill.LoggerAdapter) {
				ctx, cancel := context.WithTimeout(context.Background(), consumerDeleteTimeout)
				defer cancel()
				if err := cfg.JS.DeleteConsumer(ctx, stream, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
					// The server removes it after ephemeralInactiveThreshold.
					cfg.Logger.Debug("delete ephemeral journal consumer", "consumer", name, "err", err)
				}
			}
		}
		return GatedConsumer{Consumer: cons, Gate: s.gate}, closer, nil
	}
}

// recordUnmarshaler is a subscription's watermill Unmarshaler: it unpacks
// a journal message into a record, held until Take, and returns a
// watermill message whose payload is the record's data. It never returns a
// nil message (watermill-nats delivers it anyway after logging the
// error), so the error is also held, for Take to return. A message that
// watermill drops unsent when the subscription ends stays held until the
// subscription is dropped.
type recordUnmarshaler struct {
	held sync.Map // *message.Message -> delivery
}

func (u *recordUnmarshaler) Unmarshal(msg jetstream.Msg) (*message.Message, error) {
	rec, err := RecordOf(msg)
	if err == nil {
		err = checkHeaders(rec, msg.Headers())
	}
	m := message.NewMessage("journal-"+strconv.FormatUint(rec.Position, 10), rec.Data)
	u.held.Store(m, delivery{rec: rec, msg: msg, err: err})
	return m, err
}

// checkHeaders checks what every reader of a record relies on: a stream
// position and a range of sequences.
func checkHeaders(rec domain.Record, h nats.Header) error {
	if rec.Position == 0 {
		return errors.New("journal message without a stream position")
	}
	if rec.FirstSeq == 0 || rec.LastSeq < rec.FirstSeq {
		return fmt.Errorf("journal record %d: bad sequence headers %q-%q: %w",
			rec.Position, h.Get(HeaderFirstSeq), h.Get(HeaderLastSeq), domain.ErrMalformedEvent)
	}
	return nil
}

// Records delivers the subscription's messages, one a journal record, in
// journal order. Ack or nack each one; the next may come before.
func (s *Subscription) Records() <-chan *message.Message { return s.records }

// Take returns the record behind m, received from Records, and its
// JetStream message (to mark it in progress while it is handled), and
// forgets them. The error says why the record cannot be read: it is then
// not to be acked.
func (s *Subscription) Take(m *message.Message) (domain.Record, jetstream.Msg, error) {
	v, ok := s.unm.held.LoadAndDelete(m)
	if !ok {
		return domain.Record{}, nil, fmt.Errorf("journal message %s: not from this subscription", m.UUID)
	}
	d := v.(delivery)
	return d.rec, d.msg, d.err
}

// StopDelivery stops handing out records: those that arrive from now on
// are dropped unacked, and come again to the next subscription.
func (s *Subscription) StopDelivery() { s.gate.Close() }

// Close ends the subscription without tripping watermill-nats (see Gate):
// close the gate, nack what its handler still offers until the calls in
// flight return, then cancel the subscription and close the subscriber,
// which drains its connection and deletes an ephemeral consumer. The error
// is for the log: the subscription has ended whatever it says.
func (s *Subscription) Close() error {
	done := s.gate.Close()
	timeout := time.NewTimer(stopDrainTimeout)
	defer timeout.Stop()
	var drainErr error
drain:
	for {
		select {
		case m, ok := <-s.records:
			if !ok {
				break drain
			}
			m.Nack()
		case <-done:
			break drain
		case <-timeout.C:
			drainErr = fmt.Errorf("%w after %s", ErrDrainTimeout, stopDrainTimeout)
			break drain
		}
	}
	s.cancel()
	if err := s.sub.Close(); err != nil {
		return errors.Join(drainErr, fmt.Errorf("close journal subscriber: %w", err))
	}
	return drainErr
}
