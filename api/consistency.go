package api

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
)

// Reads see acknowledged writes (ADR 0008). A write's answer comes from
// the processor's decision and does not wait for the read model; the
// server remembers the highest ledger sequence it has answered, and every
// read first waits until the read model has applied it. So a GET sent
// after any 201 or 422 from this server sees that outcome, whoever sent
// it, while writes never pay for the read model's commit.

// DefaultMaxReadLag bounds how many events the read model may fall behind
// the journal, counting the writes in flight (see admit), before new
// writes wait for it: without a bound, a journal that outruns the
// projection leaves reads ever further behind. 20,000 events are half a
// second of the projection's work at its slowest measured rate
// (docs/BENCHMARKS.md).
const DefaultMaxReadLag = 20_000

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

// Read-your-writes across API nodes (ADR 0025): the answer to a write
// names, in HeaderSequence, the journal sequence holding its outcome; a
// read that carries it back in HeaderMinSequence, on any node, waits (at
// most ReadWait, then 503) until that node's read model has applied it.
const (
	HeaderSequence    = "Ledger-Sequence"
	HeaderMinSequence = "Ledger-Min-Sequence"
)

// answered advances the mark to a decided write's sequence and names it
// in the answer.
func (s *Server) answered(c echo.Context, seq uint64) {
	s.acked.advance(seq)
	noteSequence(c, seq)
}

// noteSequence sets HeaderSequence to seq, or keeps the higher one set
// already (a batch answers for many writes).
func noteSequence(c echo.Context, seq uint64) {
	if seq == 0 {
		return
	}
	h := c.Response().Header()
	if prev := h.Get(HeaderSequence); prev != "" { // parsing "" would allocate its error
		if cur, err := strconv.ParseUint(prev, 10, 64); err == nil && cur >= seq {
			return
		}
	}
	h.Set(HeaderSequence, strconv.FormatUint(seq, 10))
}

// minSequence reads HeaderMinSequence: 0 when absent.
func minSequence(c echo.Context) (uint64, error) {
	v := c.Request().Header.Get(HeaderMinSequence)
	if v == "" {
		return 0, nil
	}
	seq, err := strconv.ParseUint(v, 10, 64)
	if err != nil || seq == 0 {
		return 0, &domain.FieldError{Field: HeaderMinSequence, Reason: "must be a journal sequence (an integer from 1), as a write's " + HeaderSequence + " header gave it"}
	}
	return seq, nil
}

// seesWrites makes a read handler wait (at most ReadWait) until the read
// model has applied every sequence acknowledged before the request came,
// and the one the request names in HeaderMinSequence.
func (s *Server) seesWrites(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		want, err := minSequence(c)
		if err != nil {
			return err
		}
		if seq := max(s.acked.load(), want); seq > 0 && seq > s.read.Applied().Seq {
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

// errRestoring is the problem of a transfer read that misses while
// commands stored before this server started are still being decided: it
// may be one of them, so "not found" would be a guess.
var errRestoring = problem(CodeUnavailable, "commands stored before the ledger restarted are still being decided; retry")

// restored returns nil once every command stored before this server
// started is decided and the read model has applied the decisions, so
// that a read that misses means "never accepted". It waits (at most
// ReadWait) for the read model, and reports reread when it did wait: the
// caller reads again. Otherwise it returns errRestoring or errReadLag.
func (s *Server) restored(ctx context.Context) (reread bool, err error) {
	if s.cfg.Restored == nil {
		return false, nil
	}
	seq, ok := s.cfg.Restored()
	if !ok {
		return false, errRestoring
	}
	if seq <= s.read.Applied().Seq {
		return false, nil
	}
	// The decisions are outcomes like any acknowledged one: reads that
	// follow see them too.
	s.acked.advance(seq)
	if err := s.waitRead(ctx, seq); err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return false, err
		}
		return false, errReadLag
	}
	return true, nil
}

// admitted is admit bounded by SyncTimeout.
func (s *Server) admitted(c echo.Context, n int) (release func(), err error) {
	return s.admit(c.Request().Context(), s.cfg.SyncTimeout, n)
}

// admitPoll is how often a held write looks again: writes finishing
// elsewhere change what it waits for.
const admitPoll = 2 * time.Millisecond

// admit holds a write of n items while the journal, as it will stand once
// the writes in flight are decided, would be more than MaxReadLag events
// ahead of the read model: its last sequence (or the highest acknowledged
// one without JournalSeq), plus the items stored and not yet decided,
// whatever the processor is doing (Undecided), plus the items in flight, plus n. It waits
// until the read model catches up to that, or refuses the write with 503
// (having stored nothing) once limit has passed or parent has ended.
// Counting the writes in flight bounds the lag whatever the number of
// clients: with 32 clients sending batches of 1,000 and only the
// acknowledged sequence counted, the read model was seen 42,000 events
// behind. The caller calls release once the write has its answer.
func (s *Server) admit(parent context.Context, limit time.Duration, n int) (release func(), err error) {
	bound := uint64(s.cfg.MaxReadLag)
	admissible := func() (uint64, bool) {
		head := s.acked.load()
		if s.cfg.JournalSeq != nil {
			head = max(head, s.cfg.JournalSeq())
		}
		if s.cfg.Undecided != nil {
			head += s.cfg.Undecided()
		}
		ahead := head + uint64(s.inflight.Load()) + uint64(n)
		return ahead - min(ahead, bound), ahead <= bound || s.read.Applied().Seq >= ahead-bound
	}
	admitted := func() (func(), error) {
		s.inflight.Add(int64(n))
		return func() { s.inflight.Add(-int64(n)) }, nil
	}
	if s.admitWaiting.Load() == 0 {
		if _, ok := admissible(); ok {
			return admitted()
		}
	}
	// Held writes queue for the turn to wait (a channel's senders are
	// served in order), so they are admitted in about the order they came
	// rather than whichever looks first. Only they pay for a timer.
	ctx, cancel := context.WithTimeout(parent, limit)
	defer cancel()
	s.admitWaiting.Add(1)
	defer s.admitWaiting.Add(-1)
	select {
	case s.admitTurn <- struct{}{}:
		defer func() { <-s.admitTurn }()
	case <-ctx.Done():
		return nil, errAtCapacity
	}
	for {
		need, ok := admissible()
		if ok {
			return admitted()
		}
		wait, cancel := context.WithTimeout(ctx, admitPoll)
		_ = s.read.WaitSeq(wait, need)
		cancel()
		if ctx.Err() != nil {
			return nil, errAtCapacity
		}
	}
}

var errAtCapacity = problem(CodeUnavailable, "the ledger is at capacity (the read model is behind); retry with the same id")
