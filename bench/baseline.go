package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/infra"
)

// The JetStream baseline's stream and message.
const (
	baselineStream      = "BENCH_BASELINE"
	baselineSubject     = "bench.baseline"
	baselinePayloadSize = 128 // about a small command
)

// runBaselines measures, one after the other and with the run's client,
// concurrency and durations, what the ledger's layers cost without the
// ledger: a trivial Echo JSON handler, the API with nothing behind it
// (ceiling.go), then raw JetStream publishing.
func runBaselines(ctx context.Context, cfg Config, hc *http.Client, progress io.Writer) (*Baseline, error) {
	p := phase{concurrency: cfg.Concurrency, warmup: cfg.Warmup, duration: cfg.Duration, rate: cfg.Rate, progress: progress}
	b := &Baseline{}

	p.name, p.unit = "echo", "requests"
	echoRes, err := labelled(ctx, p.name, func(ctx context.Context) (phaseResult, error) { return echoBaseline(ctx, p, hc) })
	if err != nil {
		return nil, fmt.Errorf("echo baseline: %w", err)
	}
	b.EchoRequestsPerSec, b.EchoLatencyMS, b.EchoErrors = rate(echoRes.transfers, p.duration), latency(echoRes.hist), echoRes.errors

	p.name, p.unit = "api ceiling", "transfers"
	ceilRes, err := labelled(ctx, p.name, func(ctx context.Context) (phaseResult, error) { return apiCeiling(ctx, cfg, p, hc) })
	if err != nil {
		return nil, fmt.Errorf("api ceiling: %w", err)
	}
	b.CeilingTransfersPerSec, b.CeilingLatencyMS, b.CeilingErrors = rate(ceilRes.transfers, p.duration), latency(ceilRes.hist), ceilRes.errors
	b.CeilingRatioToEcho = ratio(b.CeilingTransfersPerSec, b.EchoRequestsPerSec)

	p.name, p.unit = "jetstream", "messages"
	jsRes, err := labelled(ctx, p.name, func(ctx context.Context) (phaseResult, error) { return jetStreamBaseline(ctx, p, cfg.SyncAlways) })
	if err != nil {
		return nil, fmt.Errorf("jetstream baseline: %w", err)
	}
	b.JetStreamMsgsPerSec, b.JetStreamLatencyMS, b.JetStreamErrors = rate(jsRes.transfers, p.duration), latency(jsRes.hist), jsRes.errors
	return b, nil
}

// labelled runs a phase with the profiler label phase=name, which every
// goroutine it starts (servers, workers) inherits, so that one CPU
// profile of a whole run tells the phases apart (`ledger bench
// --cpuprofile`, then `go tool pprof -tagfocus phase=...`).
func labelled[T any](ctx context.Context, name string, f func(context.Context) (T, error)) (T, error) {
	var v T
	var err error
	pprof.Do(ctx, pprof.Labels("phase", name), func(ctx context.Context) { v, err = f(ctx) })
	return v, err
}

// echoBaseline serves one GET route answering {"ok":true} on loopback and
// loads it like the ledger.
func echoBaseline(ctx context.Context, p phase, hc *http.Client) (phaseResult, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/ok", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]bool{"ok": true}) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return phaseResult{}, err
	}
	srv := newHTTPServer(e)
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		_ = srv.Close()
		hc.CloseIdleConnections()
	}()
	url := "http://" + ln.Addr().String() + "/ok"
	res := p.run(ctx, func(int) step {
		return func(ctx context.Context, t *tally) int64 {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				panic(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.fail("transport_"+transportKind(err), 1)
				return 0
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.fail("http_"+strconv.Itoa(resp.StatusCode), 1)
				return 0
			}
			return 1
		}
	})
	return res, ctx.Err()
}

// jetStreamBaseline publishes small messages to a one-subject stream of an
// embedded server on a temporary directory, each worker waiting for its
// acknowledgement as a request waits for its answer.
func jetStreamBaseline(ctx context.Context, p phase, syncAlways bool) (phaseResult, error) {
	dir, err := os.MkdirTemp("", "ledger-bench-nats-*")
	if err != nil {
		return phaseResult{}, err
	}
	defer os.RemoveAll(dir)
	_, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dir, SyncAlways: syncAlways})
	if err != nil {
		return phaseResult{}, err
	}
	defer stop()
	js, err := jetstream.New(nc)
	if err != nil {
		return phaseResult{}, err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: baselineStream, Subjects: []string{baselineSubject}, Storage: jetstream.FileStorage,
	}); err != nil {
		return phaseResult{}, err
	}
	payload := make([]byte, baselinePayloadSize)
	res := p.run(ctx, func(int) step {
		return func(ctx context.Context, t *tally) int64 {
			if _, err := js.Publish(ctx, baselineSubject, payload); err != nil {
				kind := "error"
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoStreamResponse) {
					kind = "timeout"
				}
				t.fail("publish_"+kind, 1)
				return 0
			}
			return 1
		}
	})
	return res, ctx.Err()
}
