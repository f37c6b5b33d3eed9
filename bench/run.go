// Package bench is ledger bench: a load generator for the ledger's REST
// API. It sets up an asset and funded accounts, posts random small
// transfers between them from concurrent workers for a fixed time, reports
// throughput, latency and errors, and checks at the end that the ledger's
// books agree with what its answers said (see invariants.go).
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Run benchmarks the ledger at cfg.URL, or one it starts, and returns the
// report; progress lines (and a self-started ledger's warnings) go to
// progress. A failed invariant is in the report, not an error: errors
// mean the run could not be completed.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("url %q: want http(s)://host[:port]", cfg.URL)
		}
		cfg.URL = strings.TrimRight(cfg.URL, "/")
	}
	hc := newHTTPClient(cfg.Concurrency)
	defer hc.CloseIdleConnections()
	rep := &Report{
		Errors: map[string]int64{}, Concurrency: cfg.Concurrency, Batch: cfg.Batch,
		DurationS: cfg.Duration.Seconds(), Accounts: cfg.Accounts, Async: cfg.Async, Rate: cfg.Rate, Target: cfg.URL,
	}
	if cfg.URL == "" {
		rep.Target = "self-started"
	}
	// Baselines first and alone: they must not share the CPU with the
	// ledger.
	if cfg.Baseline {
		b, err := runBaselines(ctx, cfg, hc, progress)
		if err != nil {
			return nil, err
		}
		rep.Baseline = b
	}

	// A self-started ledger's goroutines inherit the label phase=ledger.
	return labelled(ctx, "ledger", func(ctx context.Context) (*Report, error) {
		tgt := remote(cfg.URL, cfg.Token)
		if cfg.URL == "" {
			var err error
			if tgt, err = startLedger(ctx, cfg, progress); err != nil {
				return nil, err
			}
		}
		err := runLedger(ctx, cfg, hc, tgt, progress, rep)
		return rep, errors.Join(err, tgt.stop())
	})
}

// runLedger sets up, runs the load and checks the books.
func runLedger(ctx context.Context, cfg Config, hc *http.Client, tgt target, progress io.Writer, rep *Report) error {
	if cfg.ReadyWait == 0 {
		cfg.ReadyWait = DefaultReadyWait
	}
	a := &api{base: tgt.base, token: tgt.token, hc: hc, readyWait: cfg.ReadyWait}
	if err := a.waitReady(ctx); err != nil {
		return err
	}
	if progress != nil {
		fmt.Fprintf(progress, "bench: setting up %d funded %s accounts\n", cfg.Accounts, benchAsset)
	}
	if err := setup(ctx, a, cfg.Accounts, cfg.Concurrency); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	before, err := a.snapshot(ctx)
	if err != nil {
		return err
	}
	runID, err := randomHex(4)
	if err != nil {
		return err
	}
	p := phase{name: "ledger", unit: "transfers", concurrency: cfg.Concurrency,
		warmup: cfg.Warmup, duration: cfg.Duration, rate: cfg.Rate, progress: progress}
	// The read model's lag is sampled alongside, for as long as the phase.
	sampler := newLagSampler(tgt.base, tgt.token, cfg.Warmup, cfg.Duration)
	type sampled struct {
		samples []lagSample
		failed  int
		err     error
	}
	lagDone := make(chan sampled, 1)
	go func() {
		samples, failed, err := sampler.run(ctx)
		lagDone <- sampled{samples, failed, err}
	}()
	res := p.run(ctx, func(w int) step {
		return newTransferGen(hc, tgt.base, tgt.token, runID, w, cfg).step
	})
	lag := <-lagDone
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	rep.TransfersPerSec = rate(res.transfers, res.measured)
	rep.RequestsPerSec = rate(res.requests, res.measured)
	rep.LatencyMS = latency(res.hist)
	rep.Errors = res.errors
	// What the client saw, whether or not the ledger can be checked.
	rep.Posted, rep.Accepted, rep.Unanswered = res.posted, res.accepted, res.unanswered
	rep.Ran = true
	lagRep := lagStats(lag.samples, sampler.start.Add(cfg.Warmup))
	if lag.failed > 0 {
		lagRep.Failed, lagRep.Error = lag.failed, lag.err.Error()
	}
	rep.ReadModelLag = &lagRep

	if progress != nil {
		fmt.Fprintln(progress, "bench: checking the books")
	}
	c, err := verify(ctx, a, cfg, runID, res, before)
	if err != nil {
		rep.CheckError = err.Error()
		return fmt.Errorf("check: %w", err)
	}
	rep.Posted, rep.LedgerPosted, rep.Checked = c.clientPosted, c.ledgerPosted, true
	rep.InvariantsOK, rep.InvariantFailures = len(c.failures) == 0, c.failures
	if b := rep.Baseline; b != nil {
		b.RatioToEcho = ratio(rep.TransfersPerSec, b.EchoRequestsPerSec)
		b.RatioToCeiling = ratio(rep.TransfersPerSec, b.CeilingTransfersPerSec)
		b.RatioToJetStream = ratio(rep.TransfersPerSec, b.JetStreamMsgsPerSec)
	}
	return nil
}
