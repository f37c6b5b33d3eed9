package webhook

import (
	"context"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/subscriber"
)

// Watermill metadata the delivery handler keeps on a message across its
// retries.
const metaAttempts = "webhook_attempts"

// runner is one webhook's delivery: a watermill Router with one handler
// reading the webhook's durable subscription, restarted with backoff if it
// stops on an error.
type runner struct {
	svc    *Service
	w      stored
	cancel context.CancelFunc
	done   chan struct{}
}

// run starts w's delivery in the background.
func (s *Service) run(w stored) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{svc: s, w: w, cancel: cancel, done: make(chan struct{})}
	go r.loop(ctx)
	return r
}

// stop ends the delivery and waits for it.
func (r *runner) stop() {
	r.cancel()
	<-r.done
}

func (r *runner) loop(ctx context.Context) {
	defer close(r.done)
	log := r.svc.log.With("webhook", r.w.ID)
	backoff := restartBackoffMin
	for {
		began := time.Now()
		err := r.route(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > restartBackoffMax {
			backoff = restartBackoffMin
		}
		log.Warn("webhook delivery stopped; restarting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, restartBackoffMax)
	}
}

// route runs the webhook's Router until ctx ends or its subscription
// stops. Middleware, outermost first: PoisonQueue files a delivery that
// still fails after the retries as a dead letter (and acks it, so the
// next event goes); retry (retry.go) repeats a failed attempt with capped
// exponential backoff. Only endpoint failures (*webhook.DeliveryError) are
// retried and filed; anything else (the delivery stopping) nacks the
// event, which is then offered again.
func (r *runner) route(ctx context.Context) error {
	sub, err := r.svc.subscriber(r.w)
	if err != nil {
		return err
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: routerCloseTimeout}, watermill.NopLogger{})
	if err != nil {
		return err
	}
	poison, err := middleware.PoisonQueueWithFilter(deadLetterPublisher{svc: r.svc, w: r.w}, deadLettersBucket(r.svc.ledger), endpointFailed)
	if err != nil {
		return err
	}
	router.AddMiddleware(poison, r.retry)
	router.AddConsumerHandler(consumerName(r.w.ID), subscriber.JournalStream(r.svc.ledger), sub, r.handle)
	return router.Run(ctx)
}

// handle delivers one event, counting the attempt on the message.
func (r *runner) handle(msg *message.Message) error {
	seq, err := strconv.ParseUint(msg.Metadata.Get(subscriber.MetaSeq), 10, 64)
	if err != nil {
		return err
	}
	typ := domain.EventType(msg.Metadata.Get(subscriber.MetaType))
	if r.w.Account != "" {
		ev, err := domain.DecodeEvent(msg.Payload)
		if err != nil {
			return err
		}
		if !ev.Involves(r.w.Account) {
			return nil
		}
	}
	n, _ := strconv.Atoi(msg.Metadata.Get(metaAttempts))
	msg.Metadata.Set(metaAttempts, strconv.Itoa(n+1))
	return r.svc.deliver(msg.Context(), r.w, seq, typ, msg.Payload)
}
