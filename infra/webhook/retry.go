package webhook

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/nats-ledger/ledger/subscriber"
	"github.com/nats-ledger/ledger/webhook"
)

// The retry loop is the ledger's own, not watermill's middleware.Retry:
// in watermill v1.5.1 that middleware calls its backoff's NextBackOff in
// ShouldRetry (and again in OnRetryHook) besides the call backoff.Retry
// makes, so every wait doubles twice and the schedule 1, 2, 4, 8, 16 s
// became 2, 8, 30, 30, 30 s. Here each wait is computed once, from the
// number of the retry, and logged before it is waited.

// retryJitter spreads each wait over ±10 % of its nominal value, so that
// endpoints that fail together are not retried in step.
const retryJitter = 0.1

// Clock is what deliveries wait on: the system clock unless a test gives
// a fake one, which then decides the retry schedule's time without real
// waits.
type Clock interface {
	// Now is the current time.
	Now() time.Time
	// Sleep waits d, or until ctx ends (returning ctx's error).
	Sleep(ctx context.Context, d time.Duration) error
}

// systemClock is the real time.
type systemClock struct{}

var _ Clock = systemClock{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wait is the nominal wait before retry n (0 for the first retry):
// InitialInterval times Multiplier to the n, at most MaxInterval.
func (r Retry) Wait(n int) time.Duration {
	d := float64(r.InitialInterval)
	for i := 0; i < n && d < float64(r.MaxInterval); i++ {
		d *= r.Multiplier
	}
	return time.Duration(min(d, float64(r.MaxInterval)))
}

// jittered is the wait before retry n with its jitter, never above
// MaxInterval.
func (r Retry) jittered(n int) time.Duration {
	d := float64(r.Wait(n)) * (1 + retryJitter*(2*rand.Float64()-1))
	return time.Duration(min(d, float64(r.MaxInterval)))
}

// endpointFailed reports whether err is a failure of the endpoint (which
// is retried, then dead-lettered) rather than the delivery stopping.
func endpointFailed(err error) bool {
	var de *webhook.DeliveryError
	return errors.As(err, &de)
}

// retry is the middleware that repeats a delivery the endpoint failed: at
// most Retry.MaxRetries times, after the waits Retry.jittered gives, and
// not past retriesElapsedMax from the first attempt. Each failed attempt
// is logged with the time of the next one. Another error (the delivery
// stopping) returns at once, as does the endpoint's last failure, which
// the PoisonQueue outside files as a dead letter.
func (r *runner) retry(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		ctx := msg.Context()
		clock, cfg := r.svc.clock, r.svc.cfg.Retry
		began := clock.Now()
		for n := 0; ; n++ {
			msg.SetContext(ctx) // an attempt never sees a context a previous one left
			out, err := h(msg)
			if err == nil {
				r.svc.cfg.Observer.WebhookDelivered()
			}
			if err == nil || !endpointFailed(err) {
				return out, err
			}
			wait := cfg.jittered(n)
			now := clock.Now()
			last := n >= cfg.MaxRetries || now.Add(wait).Sub(began) > retriesElapsedMax
			r.logAttempt(msg, err, last, now.Add(wait))
			if last {
				return out, err
			}
			r.svc.cfg.Observer.WebhookRetried()
			if serr := clock.Sleep(ctx, wait); serr != nil {
				return nil, serr
			}
		}
	}
}

// logAttempt logs one failed attempt: the webhook, the event's sequence,
// the attempt's number and status, and when the next attempt is due (or
// that there is none: the event becomes a dead letter).
func (r *runner) logAttempt(msg *message.Message, err error, last bool, next time.Time) {
	var de *webhook.DeliveryError
	errors.As(err, &de)
	attempt, _ := strconv.Atoi(msg.Metadata.Get(metaAttempts))
	args := []any{"webhook", r.w.ID, "sequence", msg.Metadata.Get(subscriber.MetaSeq), "attempt", attempt,
		"status", de.Status, "err", de.Reason}
	if last {
		r.svc.log.Warn("webhook delivery attempt failed; no retry left", append(args, "next_attempt", "none")...)
		return
	}
	r.svc.log.Warn("webhook delivery attempt failed", append(args, "next_attempt", next.UTC().Format(time.RFC3339Nano))...)
}
