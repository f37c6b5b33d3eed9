package bench

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"time"
)

// Read-model lag sampling: GET /v1/status is polled every
// statusPollInterval while the ledger phase runs. The target is that the
// read model never falls more than 1 s behind the journal.
const (
	statusPollInterval = 50 * time.Millisecond
	// statusRequestTimeout bounds one poll: a slow answer is a missed
	// sample, not a stalled sampler.
	statusRequestTimeout = 2 * time.Second
)

// ReadModelLag is how far the read model fell behind the journal during
// the measured window, from GET /v1/status polled every 50 ms.
type ReadModelLag struct {
	// MaxEvents is the largest journal.sequence - read_model.sequence.
	MaxEvents uint64 `json:"max_events"`
	// MaxMS and P99MS bound how long the oldest event not yet applied had
	// been in the journal, at the sampling resolution (see lagStats).
	MaxMS float64 `json:"max_ms"`
	P99MS float64 `json:"p99_ms"`
	// Samples counts the answers in the measured window.
	Samples int `json:"samples"`
	// Failed counts polls that got no status (the sampler stops at a 4xx,
	// such as a ledger without /v1/status); Error is the first failure.
	Failed int    `json:"failed,omitempty"`
	Error  string `json:"error,omitempty"`
}

// lagSample is one answer of GET /v1/status.
type lagSample struct {
	sent, received time.Time
	journal        uint64 // journal.sequence
	applied        uint64 // read_model.sequence
}

// statusBody is the part of GET /v1/status the sampler reads.
type statusBody struct {
	Journal struct {
		Sequence uint64 `json:"sequence"`
	} `json:"journal"`
	ReadModel struct {
		Sequence uint64 `json:"sequence"`
	} `json:"read_model"`
}

// lagSampler polls a ledger's status from start until end.
type lagSampler struct {
	a          *api
	start, end time.Time
}

// newLagSampler samples the warm-up and the measured window of a phase
// starting now: the warm-up's samples are history for the first measured
// ones (see lagStats). It has its own connection, off the workers' pool.
func newLagSampler(base, token string, warmup, duration time.Duration) *lagSampler {
	start := time.Now()
	return &lagSampler{
		a:     &api{base: base, token: token, hc: newHTTPClient(1)},
		start: start,
		end:   start.Add(warmup + duration),
	}
}

// run polls until the phase's end or ctx ends, then returns the samples
// with the failures. It stops by itself: the sample count is bounded by
// (warmup + duration) / statusPollInterval + 1, at most (WarmupMax +
// DurationMax) / 50 ms + 1 = 73,201 samples of 64 bytes (under 5 MB).
func (s *lagSampler) run(ctx context.Context) (samples []lagSample, failed int, firstErr error) {
	defer s.a.hc.CloseIdleConnections()
	ctx, cancel := context.WithDeadline(ctx, s.end)
	defer cancel()
	tick := time.NewTicker(statusPollInterval)
	defer tick.Stop()
	samples = make([]lagSample, 0, int(s.end.Sub(s.start)/statusPollInterval)+1)
	for {
		smp, err := s.poll(ctx)
		switch {
		case err == nil:
			samples = append(samples, smp)
		case ctx.Err() != nil:
			return samples, failed, firstErr // the phase ended during the poll
		default:
			failed++
			if firstErr == nil {
				firstErr = err
			}
			var se *StatusError
			if errors.As(err, &se) && se.Status >= 400 && se.Status < 500 {
				return samples, failed, firstErr // asking again will not help
			}
		}
		select {
		case <-ctx.Done():
			return samples, failed, firstErr
		case <-tick.C:
		}
	}
}

func (s *lagSampler) poll(ctx context.Context) (lagSample, error) {
	ctx, cancel := context.WithTimeout(ctx, statusRequestTimeout)
	defer cancel()
	var b statusBody
	sent := time.Now()
	if _, err := s.a.do(ctx, http.MethodGet, "/v1/status", nil, &b, http.StatusOK); err != nil {
		return lagSample{}, err
	}
	return lagSample{sent: sent, received: time.Now(), journal: b.Journal.Sequence, applied: b.ReadModel.Sequence}, nil
}

// lagStats computes the read model's lag from samples in time order,
// counting those received at or after from (the measured window); earlier
// ones are only history.
//
// At a sample whose read model is at R behind a journal at J > R, the
// oldest event not applied, R+1, was appended after the last earlier
// sample whose journal was at or below R had been read; so it had been in
// the journal for less than this sample's receipt minus that sample's
// sending: an upper bound at the sampling resolution. The lag is 0 at a
// sample with nothing to apply. When no earlier sample had the journal at
// or below R, the event predates the sampling, and the lag is counted from
// the first sample: an underestimate that sampling the warm-up avoids.
func lagStats(samples []lagSample, from time.Time) ReadModelLag {
	var out ReadModelLag
	// highest[k] is the highest journal sequence of samples[:k+1]: the
	// journal only grows, and taking the running maximum keeps the
	// search below sound (and conservative) even if it did not.
	highest := make([]uint64, len(samples))
	var lags []time.Duration
	for i, s := range samples {
		highest[i] = s.journal
		if i > 0 {
			highest[i] = max(highest[i-1], s.journal)
		}
		if s.received.Before(from) {
			continue
		}
		out.Samples++
		if s.journal <= s.applied {
			lags = append(lags, 0)
			continue
		}
		out.MaxEvents = max(out.MaxEvents, s.journal-s.applied)
		// The first earlier sample whose journal was past R; the one
		// before it is the last at or below R.
		k := sort.Search(i, func(k int) bool { return highest[k] > s.applied })
		since := samples[0].sent
		if k > 0 {
			since = samples[k-1].sent
		}
		lags = append(lags, s.received.Sub(since))
	}
	if len(lags) == 0 {
		return out
	}
	slices.Sort(lags)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	out.MaxMS = ms(lags[len(lags)-1])
	out.P99MS = ms(lags[nearestRank(len(lags), 990)])
	return out
}

// nearestRank is the index of the quantile of permille thousandths in n
// sorted values, by the nearest-rank method in integers (no float
// rounding at whole ranks).
func nearestRank(n, permille int) int {
	return max((n*permille+999)/1000-1, 0)
}
