package bench

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestRunAgainstSelfStartedLedger(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{
		Concurrency: 4, Duration: time.Second, Warmup: 200 * time.Millisecond,
		Batch: 1, Accounts: 10, DataDir: t.TempDir(),
	}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.InvariantsOK {
		t.Fatalf("invariants failed: %v", rep.InvariantFailures)
	}
	if len(rep.Errors) != 0 {
		t.Errorf("errors: %v", rep.Errors)
	}
	if rep.Posted <= 0 || rep.Posted != rep.LedgerPosted {
		t.Errorf("posted %d, ledger posted %d", rep.Posted, rep.LedgerPosted)
	}
	if rep.TransfersPerSec <= 0 || rep.TransfersPerSec != rep.RequestsPerSec {
		t.Errorf("transfers/s %v, requests/s %v: want equal and positive with batch 1", rep.TransfersPerSec, rep.RequestsPerSec)
	}
	// Posted counts the warm-up too, so it exceeds the measured transfers.
	if measured := rep.TransfersPerSec * rep.DurationS; float64(rep.Posted) < measured {
		t.Errorf("posted %d < measured transfers %v", rep.Posted, measured)
	}
	l := rep.LatencyMS
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("latency percentiles not monotonic: %+v", l)
	}
	if rep.Baseline != nil {
		t.Error("baseline measured without being asked")
	}
	// The lag sampler polled GET /v1/status through the phase without a
	// failure. (How many samples fell in the measured second depends on
	// the machine's load, so it is not asserted.)
	if lag := rep.ReadModelLag; lag == nil || lag.Failed != 0 || lag.P99MS > lag.MaxMS {
		t.Errorf("read-model lag: %+v", lag)
	} else {
		t.Logf("read-model lag: %+v", *lag)
	}
}

func TestBaselineSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{
		Concurrency: 2, Duration: 200 * time.Millisecond, Batch: 1, Accounts: 2, Baseline: true,
	}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Baseline
	if b == nil {
		t.Fatal("no baseline in the report")
	}
	// Without a warm-up every request's latency is recorded, even one
	// that a loaded machine finishes after the short window.
	if b.EchoLatencyMS.Max <= 0 || b.JetStreamLatencyMS.Max <= 0 || b.CeilingLatencyMS.Max <= 0 {
		t.Errorf("baselines measured nothing: echo %+v, api ceiling %+v, jetstream %+v", b.EchoLatencyMS, b.CeilingLatencyMS, b.JetStreamLatencyMS)
	}
	if len(b.EchoErrors) != 0 || len(b.JetStreamErrors) != 0 || len(b.CeilingErrors) != 0 {
		t.Errorf("baseline errors: echo %v, api ceiling %v, jetstream %v", b.EchoErrors, b.CeilingErrors, b.JetStreamErrors)
	}
	if b.EchoRequestsPerSec > 0 && b.RatioToEcho != rep.TransfersPerSec/b.EchoRequestsPerSec {
		t.Errorf("ratio to echo %v, want %v", b.RatioToEcho, rep.TransfersPerSec/b.EchoRequestsPerSec)
	}
	if b.CeilingTransfersPerSec > 0 && b.RatioToCeiling != rep.TransfersPerSec/b.CeilingTransfersPerSec {
		t.Errorf("ratio to the api ceiling %v, want %v", b.RatioToCeiling, rep.TransfersPerSec/b.CeilingTransfersPerSec)
	}
	if b.EchoRequestsPerSec > 0 && b.CeilingRatioToEcho != b.CeilingTransfersPerSec/b.EchoRequestsPerSec {
		t.Errorf("api ceiling's ratio to echo %v, want %v", b.CeilingRatioToEcho, b.CeilingTransfersPerSec/b.EchoRequestsPerSec)
	}
	var text strings.Builder
	rep.WriteText(&text)
	for _, want := range []string{"api ceiling", "x api ceiling"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	if !rep.InvariantsOK {
		t.Errorf("invariants failed: %v", rep.InvariantFailures)
	}
}

func TestCheck(t *testing.T) {
	d := decimal.RequireFromString
	// A sound run: 10 accounts funded with 100 each, 50 events of which 2
	// rejections, one of a transfer answered 202.
	good := checkInput{
		benchSum: d("1000.00"), worldBefore: d("-1000.00"), worldAfter: d("-1000.00"),
		seqBefore: 20, seqAfter: 70, rejections: 2, rejectionsAccepted: 1,
		posted: 40, unknownFound: 1, accepted: 8,
	}
	tests := []struct {
		name   string
		change func(*checkInput)
		want   string // in a failure; empty: passes
	}{
		{"sound", func(*checkInput) {}, ""},
		{"money created", func(in *checkInput) { in.benchSum = d("1000.01") }, "sum to 0.01, not zero"},
		{"world moved", func(in *checkInput) {
			in.worldAfter, in.benchSum = d("-1001.00"), d("1001.00")
		}, "world's BENCH balance moved"},
		{"a posted transfer lost", func(in *checkInput) { in.seqAfter-- }, "ledger posted 47 transfers"},
		{"posted without the client knowing", func(in *checkInput) { in.seqAfter++ }, "ledger posted 49 transfers"},
		{"a rejection not counted", func(in *checkInput) { in.rejections-- }, "the client counted 48"},
		{"more rejections than events", func(in *checkInput) { in.rejections = 51 }, "only 50 journal events"},
		{"sequence back", func(in *checkInput) { in.seqAfter = 10 }, "went back"},
		{"ids dropped", func(in *checkInput) { in.incomplete = []string{"3 ids"} }, "count not exact: 3 ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			tt.change(&in)
			r := check(in)
			got := strings.Join(r.failures, "; ")
			if tt.want == "" {
				if got != "" || r.ledgerPosted != 48 || r.clientPosted != 48 {
					t.Fatalf("want a pass with 48 posted, got %q (ledger %d, client %d)", got, r.ledgerPosted, r.clientPosted)
				}
				return
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("failures %q, want one with %q", got, tt.want)
			}
		})
	}
}

func TestBatchResultsCountDefensively(t *testing.T) {
	g := newTransferGen(http.DefaultClient, "http://x", "tok", "run", 7, Config{Batch: 6, Accounts: 3})
	body := `{"results":[
		{"status":201,"transfer":{"id":"a","status":"posted"}},
		{"status":202,"transfer":{"id":"b","status":"pending"}},
		{"status":422,"problem":{"code":"insufficient_funds","status":422}},
		{"status":503},
		{"status":418}
	]}`
	tl := newTally()
	ok := g.batchResults(tl, &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(body))}, 100)
	if ok != 2 || tl.posted != 1 || tl.accepted != 1 {
		t.Errorf("ok %d, posted %d, accepted %d: want 2, 1, 1", ok, tl.posted, tl.accepted)
	}
	want := map[string]int64{"insufficient_funds": 1, "http_503": 1, "unrecognised_result": 1, "missing_result": 1}
	for k, v := range want {
		if tl.errors[k] != v {
			t.Errorf("errors %v, want %v", tl.errors, want)
			break
		}
	}
	if tl.lastAccepted != "bench-run-7-101" {
		t.Errorf("last accepted %q", tl.lastAccepted)
	}
	if got := strings.Join(tl.problemIDs, ","); got != "bench-run-7-102,bench-run-7-104" {
		t.Errorf("problem ids %s", got)
	}
	if got := strings.Join(tl.unknownIDs, ","); got != "bench-run-7-103,bench-run-7-105" {
		t.Errorf("unknown ids %s", got)
	}
}

func TestConfigBounds(t *testing.T) {
	ok := Config{Concurrency: 1, Duration: time.Second, Batch: 1, Accounts: 2}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Config){
		"batch over the API maximum": func(c *Config) { c.Batch = BatchMax + 1 },
		"one account":                func(c *Config) { c.Accounts = 1 },
		"too many accounts":          func(c *Config) { c.Accounts = AccountsMax + 1 },
		"no workers":                 func(c *Config) { c.Concurrency = 0 },
		"too many workers":           func(c *Config) { c.Concurrency = ConcurrencyMax + 1 },
		"no duration":                func(c *Config) { c.Duration = 0 },
		"endless":                    func(c *Config) { c.Duration = DurationMax + 1 },
		"url without a token":        func(c *Config) { c.URL = "http://127.0.0.1:8080" },
		"negative rate":              func(c *Config) { c.Rate = -1 },
		"rate past its bound":        func(c *Config) { c.Rate = RateMax + 1 },
	} {
		c := ok
		change(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPacedRun runs the ledger under --rate: the schedule spaces its slots
// 1/rate apart whoever takes them, and a paced phase never completes more
// requests than its schedule has slots in the measured window (the
// schedule is the only source of requests; it does not assert how close
// to the rate the machine came).
func TestPacedRun(t *testing.T) {
	start := time.Unix(1000, 0)
	s := newSchedule(start, 400)
	for k := range 5 {
		if got, want := s.take(), start.Add(time.Duration(k)*2500*time.Microsecond); !got.Equal(want) {
			t.Fatalf("slot %d at %v, want %v", k, got, want)
		}
	}
	if newSchedule(start, 0) != nil {
		t.Fatal("rate 0 paced the phase")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const rate, workers = 200, 4
	rep, err := Run(ctx, Config{
		Concurrency: workers, Duration: time.Second, Warmup: 200 * time.Millisecond,
		Batch: 1, Accounts: 10, DataDir: t.TempDir(), Rate: rate,
	}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.InvariantsOK || len(rep.Errors) != 0 || rep.Posted != rep.LedgerPosted {
		t.Fatalf("report: %+v", rep)
	}
	// A request counts if it completes in the measured second: those of
	// the second's slots (at most rate+1, both ends) and those still in
	// flight from slots of the warm-up (at most one a worker).
	if got := rep.RequestsPerSec * rep.DurationS; got < 1 || got > rate+1+workers {
		t.Errorf("%v requests measured in %vs at %d/s: the schedule allows at most %d", got, rep.DurationS, rate, rate+1+workers)
	}
	if rep.Rate != rate {
		t.Errorf("report's rate %v", rep.Rate)
	}
}
