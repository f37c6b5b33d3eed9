package bench

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff after a request that got no answer (a transport error or a
// 5xx): a dead or overloaded ledger is not hammered by every worker in a
// tight loop, and comes back to a ramp rather than a stampede.
const (
	backoffFirst = 10 * time.Millisecond
	backoffMax   = time.Second
)

// backoff is one worker's (or one poll loop's) retry delay: it doubles
// after each failure up to backoffMax, and resets after a success.
type backoff struct{ next time.Duration }

// failed waits the current delay with up to half of it again as jitter
// (so that workers that failed together do not retry together), but not
// past until (zero: no bound) nor after ctx ends, then doubles the delay.
func (b *backoff) failed(ctx context.Context, until time.Time) {
	if b.next == 0 {
		b.next = backoffFirst
	}
	d := b.next + rand.N(b.next/2+1)
	b.next = min(2*b.next, backoffMax)
	if !until.IsZero() {
		d = min(d, time.Until(until))
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ok resets the delay.
func (b *backoff) ok() { b.next = 0 }
