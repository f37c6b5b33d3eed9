package api

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/labstack/echo/v4"
)

// Reads see acknowledged writes (ADR 0008). A write's answer comes from
// the processor's decision and does not wait for the read model; the
// server remembers the highest ledger sequence it has answered, and every
// read first waits until the read model has applied it. So a GET sent
// after any 201 or 422 from this server sees that outcome, whoever sent
// it, while writes never pay for the read model's commit.

// DefaultMaxReadLag bounds how many events the read model may fall behind
// the sequences this server has acknowledged before new writes wait for
// it: without a bound, a journal that outruns the projection leaves reads
// ever further behind. 10,000 events are a fraction of a second of the
// projection's work (docs/BENCHMARKS.md). Batches already past the check
// add to it: with 8 clients sending 1,000 transfers each, the read model
// was seen up to 18,000 events behind.
const DefaultMaxReadLag = 10_000

// highWater is the highest sequence the server has acknowledged.
type highWater struct{ v atomic.Uint64 }

// advance raises the mark to seq.
func (h *highWater) advance(seq uint64) {
	for {
		cur := h.v.Load()
		if seq <= cur || h.v.CompareAndSwap(cur, seq) {
			return
		}
	}
}

func (h *highWater) load() uint64 { return h.v.Load() }

// errReadLag is the problem of a read the read model could not serve in
// time.
var errReadLag = problem(CodeUnavailable, "the read model has not yet applied writes this server acknowledged; retry")

// seesWrites makes a read handler wait (at most ReadWait) until the read
// model has applied every sequence acknowledged before the request came.
func (s *Server) seesWrites(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if seq := s.acked.load(); seq > 0 {
			if err := s.waitRead(c.Request().Context(), seq); err != nil {
				if errors.Is(c.Request().Context().Err(), context.Canceled) {
					return err // the client left
				}
				return errReadLag
			}
		}
		return next(c)
	}
}

// throttled is throttle bounded by SyncTimeout.
func (s *Server) throttled(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.SyncTimeout)
	defer cancel()
	return s.throttle(ctx)
}

// throttle holds a write while the read model is more than MaxReadLag
// events behind what this server has acknowledged, until it catches up to
// that bound or ctx ends (then the write is refused with 503, and stored
// nothing).
func (s *Server) throttle(ctx context.Context) error {
	acked := s.acked.load()
	if acked <= uint64(s.cfg.MaxReadLag) {
		return nil
	}
	if err := s.read.WaitSeq(ctx, acked-uint64(s.cfg.MaxReadLag)); err != nil {
		return problem(CodeUnavailable, "the ledger is at capacity (the read model is behind); retry with the same id")
	}
	return nil
}
