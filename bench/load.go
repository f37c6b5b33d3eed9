package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progressEvery is the interval of the progress lines.
const progressEvery = time.Second

// step sends one request and records its outcome in t; it returns the
// items that succeeded (transfers posted or accepted, requests answered).
type step func(ctx context.Context, t *tally) int64

// phase is one timed load: `concurrency` workers, each running its own step
// back to back for warmup+duration.
type phase struct {
	name        string // in progress lines
	unit        string // what a step's items are, in progress lines
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	rate        float64   // requests a second on a fixed schedule; 0: back to back
	progress    io.Writer // nil: silent
}

// schedule hands out the start times of a paced phase: slot k starts at
// start + k/rate, whichever worker takes it. A slot taken late (every
// worker was busy) is sent at once and its latency still counts from its
// scheduled time.
type schedule struct {
	start time.Time
	every float64 // nanoseconds between slots
	next  atomic.Int64
}

func newSchedule(start time.Time, rate float64) *schedule {
	if rate <= 0 {
		return nil
	}
	return &schedule{start: start, every: float64(time.Second) / rate}
}

// take returns the next slot's scheduled start.
func (s *schedule) take() time.Time {
	k := s.next.Add(1) - 1
	return s.start.Add(time.Duration(float64(k) * s.every))
}

// wait takes the next slot and sleeps until it is due (or ctx ends). It
// returns the slot's time: the latency's start.
func (s *schedule) wait(ctx context.Context) time.Time {
	at := s.take()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return at
}

// phaseResult is a phase's merged tally with the lastAccepted id of each
// worker.
type phaseResult struct {
	*tally
	lastAccepted []string
	measured     time.Duration
}

// run starts the workers and returns when each has finished its request in
// flight after the end. A request counts toward throughput if it completed
// inside the measured window; its latency is recorded if it completed after
// the warm-up, so the requests straddling the end are not left out of the
// tail. Workers stop early only when ctx ends. With a rate, each request
// waits for its slot of the schedule and its latency counts from the slot.
func (p phase) run(ctx context.Context, newStep func(worker int) step) phaseResult {
	start := time.Now()
	from := start.Add(p.warmup)
	to := from.Add(p.duration)
	var done atomic.Int64
	paced := newSchedule(start, p.rate)
	tallies := make([]*tally, p.concurrency)
	var wg sync.WaitGroup
	for w := range p.concurrency {
		t, s := newTally(), newStep(w)
		tallies[w] = t
		wg.Go(func() {
			var retry backoff
			for ctx.Err() == nil {
				begin := time.Now()
				if paced != nil {
					begin = paced.wait(ctx)
				}
				if !begin.Before(to) {
					return
				}
				unanswered := t.unanswered
				ok := s(ctx, t)
				end := time.Now()
				done.Add(ok)
				if t.unanswered > unanswered {
					retry.failed(ctx, to) // not counted as latency: no request is in flight
				} else {
					retry.ok()
				}
				if end.Before(from) {
					continue
				}
				_ = t.hist.RecordValue(end.Sub(begin).Microseconds()) // out of range: over 2x the request timeout
				if end.Before(to) {
					t.requests++
					t.transfers += ok
				}
			}
		})
	}
	stop := p.report(start, from, &done)
	wg.Wait()
	stop()
	res := phaseResult{tally: merge(tallies), measured: p.duration}
	for _, t := range tallies {
		if t.lastAccepted != "" {
			res.lastAccepted = append(res.lastAccepted, t.lastAccepted)
		}
	}
	return res
}

// report prints a line per second to p.progress until stopped: elapsed
// time, items so far and the rate over the last second.
func (p phase) report(start, from time.Time, done *atomic.Int64) (stop func()) {
	if p.progress == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-quit:
				return
			case now := <-tick.C:
				n := done.Load()
				rate := float64(n-last) / now.Sub(lastAt).Seconds()
				state := ""
				if now.Before(from) {
					state = " (warm-up)"
				}
				fmt.Fprintf(p.progress, "bench %s: %4.0fs  %s %d  %.0f/s%s\n",
					p.name, now.Sub(start).Seconds(), p.unit, n, rate, state)
				last, lastAt = n, now
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}
