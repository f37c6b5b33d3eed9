package subscriber

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/nats-ledger/ledger/journalio"
)

// Consumer limits.
const (
	// consumerMaxAckPending is 1: the server hands out one record at a
	// time and the next only once it is acknowledged, so a redelivered
	// record can never be overtaken by a later one. Records hold up to
	// 1,000 events, so under load this costs little.
	consumerMaxAckPending = 1
	// consumerAckWait is how long the server waits for an ack before it
	// redelivers; while a record is being handled the subscriber tells the
	// server it is in progress every inProgressInterval.
	consumerAckWait    = 30 * time.Second
	inProgressInterval = consumerAckWait / 3
	// recordHandleMax is how long watermill-nats waits for one record to
	// be handled. Past it watermill gives up on the record without an ack;
	// the server then keeps it pending (nothing overtakes it, see
	// consumerMaxAckPending) and the subscription stalls until it ends.
	recordHandleMax = 24 * time.Hour
	// pullMaxMessages bounds the records a pull asks for; the server sends
	// at most consumerMaxAckPending of them at a time anyway.
	pullMaxMessages = 8
)

// Consumer metadata: the start filter of a subscription created from a
// sequence or a time, kept with a durable consumer so that a run that
// resumes it before anything was acknowledged still skips what lies before
// the start inside the first record.
const (
	consumerMetaStartSeq  = "ledger_start_seq"
	consumerMetaStartTime = "ledger_start_time"
)

// session is one watermill subscription of the journal.
type session struct {
	*journalio.Subscription
	errs chan error // consume errors that end the session
}

// open subscribes through the journal's watermill consumer (on a
// connection of the session's own), with a consumer created or resumed by
// s.consumer; an ephemeral one is deleted when the session ends, over the
// subscriber's shared connection.
func (s *Subscriber) open(ctx context.Context) (*session, error) {
	sess := &session{errs: make(chan error, 1)}
	onErr := func(_ jetstream.ConsumeContext, err error) {
		if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
			select {
			case sess.errs <- err:
			default:
			}
		}
	}
	sub, err := journalio.Subscribe(ctx, journalio.SubscriptionConfig{
		ConnOptions: s.connOpts,
		JS:          s.js,
		Stream:      s.stream,
		Consumer: func(ctx context.Context, js jetstream.JetStream, _ string) (jetstream.Consumer, bool, error) {
			cons, err := s.consumer(ctx, js)
			return cons, s.cfg.Durable == "", err
		},
		HandlerWait:    recordHandleMax,
		ConsumeOptions: []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(pullMaxMessages), jetstream.ConsumeErrHandler(onErr)},
		Logger:         s.log,
	})
	if err != nil {
		return nil, err
	}
	sess.Subscription = sub
	return sess, nil
}

// close ends a session (see journalio.Subscription.Close).
func (s *Subscriber) close(sess *session) {
	if err := sess.Close(); errors.Is(err, journalio.ErrDrainTimeout) {
		s.log.Warn("subscriber stop", "err", err)
	} else if err != nil {
		s.log.Debug("subscriber stop", "err", err)
	}
}

// baseConfig is what every consumer of a subscriber shares.
func (s *Subscriber) baseConfig() jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       consumerAckWait,
		MaxDeliver:    -1,
		MaxAckPending: consumerMaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	switch len(s.filters) {
	case 0:
	case 1:
		cfg.FilterSubject = s.filters[0]
	default:
		cfg.FilterSubjects = slices.Clone(s.filters)
	}
	return cfg
}

// consumer creates or resumes the subscription's JetStream consumer.
//
//   - Ephemeral: a new consumer at the position after the last record
//     acknowledged in this Subscriber's life, or at cfg.Start the first
//     time.
//   - Durable, absent: created at cfg.Start (or that position).
//   - Durable, present: resumed. If a record is still pending from a run
//     that stopped without acknowledging it, or the type filter changed,
//     the consumer is recreated under the same name just after its
//     acknowledgement floor, so that delivery resumes at once and in order
//     rather than after the ack wait.
func (s *Subscriber) consumer(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	st, err := js.Stream(ctx, s.stream)
	if err != nil {
		return nil, fmt.Errorf("journal stream %s: %w", s.stream, err)
	}
	resume := s.resumePosition()
	if s.cfg.Durable == "" {
		cfg := journalio.Ephemeral(s.baseConfig(), "sub_"+nuid.Next(), "ledger subscriber (ephemeral)")
		if err := s.position(ctx, st, &cfg, resume); err != nil {
			return nil, err
		}
		cons, err := st.CreateConsumer(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("journal consumer: %w", err)
		}
		return cons, nil
	}
	cons, err := st.Consumer(ctx, s.cfg.Durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cfg := s.baseConfig()
		cfg.Durable = s.cfg.Durable
		cfg.Description = "ledger subscriber " + s.cfg.Durable + " (durable)"
		if err := s.position(ctx, st, &cfg, resume); err != nil {
			return nil, err
		}
		if cons, err = st.CreateConsumer(ctx, cfg); err != nil {
			return nil, fmt.Errorf("durable consumer %s: %w", s.cfg.Durable, err)
		}
		return cons, nil
	}
	if err != nil {
		return nil, fmt.Errorf("durable consumer %s: %w", s.cfg.Durable, err)
	}
	info := cons.CachedInfo()
	acked := info.AckFloor.Consumer > 0
	if resume == 0 && !acked {
		// Nothing acknowledged yet: the start filter still applies.
		s.skipFromMetadata(info.Config.Metadata)
	}
	if info.NumAckPending == 0 && sameSubjects(info.Config, s.filters) {
		return cons, nil
	}
	cfg := s.baseConfig()
	cfg.Durable, cfg.Description = info.Config.Durable, info.Config.Description
	cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = info.Config.DeliverPolicy, info.Config.OptStartSeq, info.Config.OptStartTime
	cfg.Metadata = ledgerMetadata(info.Config.Metadata)
	if from := max(resume, info.AckFloor.Stream+1); acked || resume > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = jetstream.DeliverByStartSequencePolicy, from, nil
	}
	if err := st.DeleteConsumer(ctx, s.cfg.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("durable consumer %s: reset: %w", s.cfg.Durable, err)
	}
	if cons, err = st.CreateConsumer(ctx, cfg); err != nil {
		return nil, fmt.Errorf("durable consumer %s: reset: %w", s.cfg.Durable, err)
	}
	s.log.Debug("durable consumer reset after its acknowledgement floor", "consumer", s.cfg.Durable,
		"ack_floor", info.AckFloor.Stream, "pending", info.NumAckPending, "start", cfg.OptStartSeq)
	return cons, nil
}

// position sets where a new consumer starts: at resume when this
// Subscriber has acknowledged records before, else at cfg.Start, whose
// skip filter it also arms (and records in the consumer's metadata).
func (s *Subscriber) position(ctx context.Context, st jetstream.Stream, cfg *jetstream.ConsumerConfig, resume uint64) error {
	if resume > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, resume
		return nil
	}
	start := s.cfg.Start
	switch start.kind {
	case startBeginning:
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	case startNew:
		info, err := st.Info(ctx)
		if err != nil {
			return fmt.Errorf("journal stream info: %w", err)
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, info.State.LastSeq+1
	case startSeq:
		pos, err := journalio.RecordPosition(ctx, st, start.seq)
		if err != nil {
			return err
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, pos
		cfg.Metadata = map[string]string{consumerMetaStartSeq: strconv.FormatUint(start.seq, 10)}
	case startTime:
		at := start.at
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &at
		cfg.Metadata = map[string]string{consumerMetaStartTime: at.Format(time.RFC3339Nano)}
	}
	s.skipFromMetadata(cfg.Metadata)
	return nil
}

// ledgerMetadata keeps the subscriber's own keys of a consumer's metadata
// (the server adds keys of its own).
func ledgerMetadata(md map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{consumerMetaStartSeq, consumerMetaStartTime} {
		if v, ok := md[k]; ok {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sameSubjects reports whether a consumer filters exactly on want.
func sameSubjects(cfg jetstream.ConsumerConfig, want []string) bool {
	have := map[string]bool{}
	if cfg.FilterSubject != "" {
		have[cfg.FilterSubject] = true
	}
	for _, f := range cfg.FilterSubjects {
		have[f] = true
	}
	wantSet := map[string]bool{}
	for _, f := range want {
		wantSet[f] = true
	}
	return maps.Equal(have, wantSet)
}
