package bench

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: latencies in microseconds from 1 µs to twice the
// client's request timeout, to three significant digits.
const (
	latencyLowestMicros  = 1
	latencyHighestMicros = int64(2 * requestTimeout / time.Microsecond)
	latencySigFigs       = 3
)

// idsKeptMax bounds the transfer ids one worker keeps for the final
// check (those answered with a problem or never answered). Past it the
// count check cannot be exact and says so.
const idsKeptMax = 10_000

// tally is what one worker counted. Each worker owns one, so nothing is
// locked on the hot path; merge combines them at the end.
type tally struct {
	hist      *hdrhistogram.Histogram // measured request latencies, µs
	requests  int64                   // requests completed in the measured window
	transfers int64                   // items posted or accepted in the measured window

	// Whole run, warm-up included: the final check needs every request.
	posted   int64            // items the ledger answered as posted
	accepted int64            // items answered 202: stored, decided later
	errors   map[string]int64 // items by problem code or transport error kind

	// problemIDs answered with a problem: a rejection the processor may
	// have journaled. unknownIDs were never answered: they may or may not
	// have reached the ledger.
	problemIDs, unknownIDs []string
	idsDropped             int64
	// unanswered counts requests that got no answer (transport errors,
	// 5xx): the phase backs off after each.
	unanswered int64
	// lastAccepted is the worker's last id answered 202. The processor
	// decides commands in the order they were stored, so once this one is
	// decided, so is every earlier one of the worker's.
	lastAccepted string
}

func newTally() *tally {
	return &tally{
		hist:   hdrhistogram.New(latencyLowestMicros, latencyHighestMicros, latencySigFigs),
		errors: map[string]int64{},
	}
}

func (t *tally) fail(code string, items int64) { t.errors[code] += items }

func (t *tally) keep(list *[]string, id string) {
	if len(*list) >= idsKeptMax {
		t.idsDropped++
		return
	}
	*list = append(*list, id)
}

// merge adds every tally into a new one; lastAccepted ids are collected
// separately by the caller.
func merge(ts []*tally) *tally {
	out := newTally()
	for _, t := range ts {
		out.hist.Merge(t.hist)
		out.requests += t.requests
		out.transfers += t.transfers
		out.posted += t.posted
		out.accepted += t.accepted
		for k, v := range t.errors {
			out.errors[k] += v
		}
		out.problemIDs = append(out.problemIDs, t.problemIDs...)
		out.unknownIDs = append(out.unknownIDs, t.unknownIDs...)
		out.idsDropped += t.idsDropped
		out.unanswered += t.unanswered
	}
	return out
}

// latency reads the percentiles off a histogram of microseconds.
func latency(h *hdrhistogram.Histogram) Latency {
	ms := func(us int64) float64 { return float64(us) / 1e3 }
	return Latency{
		P50:  ms(h.ValueAtQuantile(50)),
		P90:  ms(h.ValueAtQuantile(90)),
		P99:  ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)),
		Max:  ms(h.Max()),
	}
}
