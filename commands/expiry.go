package commands

import (
	"context"
	"fmt"
	"time"
)

// Expiring holds (ADR 0022): the processor voids a hold whose expires_at
// its clock has passed, as a HoldVoided event in the journal, at two
// moments: before the first command of each batch it decides (so that no
// command is decided against a hold already expired), and when idle, at
// the earliest expiry or at least every expiryTick while a pending hold
// has one. A replay applies these events; it never reads a clock.

const (
	// expiryTick is the longest an idle processor waits while a hold
	// may expire: a hold expires at most this late after its expiry
	// when no command arrives (the processor's clock permitting).
	expiryTick = time.Second
	// expiryTickMin is the shortest wait, so that a hold expiring at
	// the very instant of the clock is not polled in a busy loop.
	expiryTickMin = 5 * time.Millisecond
)

// expiryWait bounds ctx by the next moment a hold may expire; the
// returned cancel must be called.
func (p *Processor) expiryWait(ctx context.Context) (context.Context, context.CancelFunc) {
	next, ok := p.state.NextExpiry()
	if !ok {
		return ctx, func() {}
	}
	d := min(max(next.Sub(p.cfg.Now()), expiryTickMin), expiryTick)
	return context.WithTimeout(ctx, d)
}

// expireIdle journals the expiries due by the processor's clock while no
// command arrives. Like a batch, it changes the state first and appends
// after; an append that fails leaves the state ahead of the journal, and
// the caller rebuilds.
func (p *Processor) expireIdle() error {
	b := batch{last: -1}
	if b.events = p.state.ExpireHolds(p.cfg.Now()); len(b.events) == 0 {
		return nil
	}
	records, last, err := p.encode(&b)
	if err != nil {
		return err
	}
	if err := p.append(records, last); err != nil {
		return fmt.Errorf("%d expiries: %w", len(b.events), err)
	}
	p.cfg.Observer.Batch(0, len(b.events), 0)
	return nil
}
