package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Latency is a latency distribution in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Report is a bench run's outcome; ledger bench --json prints it.
type Report struct {
	// TransfersPerSec counts transfers posted (or, with Async, accepted)
	// in the measured window; RequestsPerSec counts HTTP requests, one per
	// batch when Batch > 1.
	TransfersPerSec float64 `json:"transfers_per_sec"`
	RequestsPerSec  float64 `json:"requests_per_sec"`
	// LatencyMS is per request (per batch when Batch > 1).
	LatencyMS Latency `json:"latency_ms"`
	// Errors counts failed transfers, warm-up included, by problem code or
	// transport error kind (transport_timeout, ...).
	Errors map[string]int64 `json:"errors"`
	// Posted is the client's count of posted transfers over the whole run,
	// warm-up included (after the check, with the unanswered ones the
	// ledger turned out to have posted); LedgerPosted the ledger's, from
	// its journal, when Checked. Unanswered counts requests that got no
	// answer (transport errors, 5xx); Errors says which.
	Posted       int64 `json:"posted"`
	Accepted     int64 `json:"accepted"`
	Unanswered   int64 `json:"unanswered"`
	LedgerPosted int64 `json:"ledger_posted"`
	// Ran says the load ran: the counts above are what the client saw.
	Ran bool `json:"ran"`
	// Checked says the final check could be made; CheckError says why not
	// otherwise (e.g. the ledger stopped answering).
	Checked    bool   `json:"checked"`
	CheckError string `json:"check_error,omitempty"`
	// InvariantsOK says the final check passed; InvariantFailures says
	// what failed otherwise.
	InvariantsOK      bool     `json:"invariants_ok"`
	InvariantFailures []string `json:"invariant_failures,omitempty"`
	// ReadModelLag is how far the read model fell behind the journal in
	// the measured window (nil if the run did not get that far).
	ReadModelLag *ReadModelLag `json:"read_model_lag,omitempty"`

	Concurrency int     `json:"concurrency"`
	Batch       int     `json:"batch"`
	DurationS   float64 `json:"duration_s"`
	Accounts    int     `json:"accounts"`
	Async       bool    `json:"async"`
	// Rate is the paced rate asked for, requests a second (0: closed loop).
	Rate     float64   `json:"rate,omitempty"`
	Target   string    `json:"target"` // the URL, or "self-started"
	Baseline *Baseline `json:"baseline,omitempty"`
}

// Baseline is what the same client and load get from a trivial Echo
// handler, from the ledger's API with nothing behind it (the ceiling), and
// from raw JetStream publishing.
type Baseline struct {
	EchoRequestsPerSec float64          `json:"echo_requests_per_sec"`
	EchoLatencyMS      Latency          `json:"echo_latency_ms"`
	EchoErrors         map[string]int64 `json:"echo_errors"`
	// CeilingTransfersPerSec is the API-only ceiling: the real HTTP
	// server, JWT verification, request decoding and validation, and an
	// in-memory decision, with no JetStream and no processor behind them
	// (ceiling.go), loaded with the run's own transfers.
	CeilingTransfersPerSec float64          `json:"ceiling_transfers_per_sec"`
	CeilingLatencyMS       Latency          `json:"ceiling_latency_ms"`
	CeilingErrors          map[string]int64 `json:"ceiling_errors"`
	// CeilingRatioToEcho is the ceiling's transfers/s over Echo's
	// requests/s.
	CeilingRatioToEcho  float64          `json:"ceiling_ratio_to_echo"`
	JetStreamMsgsPerSec float64          `json:"jetstream_msgs_per_sec"`
	JetStreamLatencyMS  Latency          `json:"jetstream_latency_ms"`
	JetStreamErrors     map[string]int64 `json:"jetstream_errors"`
	// RatioToEcho is the ledger's transfers/s over Echo's requests/s.
	RatioToEcho float64 `json:"ratio_to_echo"`
	// RatioToCeiling is the ledger's transfers/s over the ceiling's.
	RatioToCeiling float64 `json:"ratio_to_ceiling"`
	// RatioToJetStream is the ledger's transfers/s over JetStream's msgs/s.
	RatioToJetStream float64 `json:"ratio_to_jetstream"`
}

func rate(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// WriteText prints the report for a person.
func (r *Report) WriteText(w io.Writer) {
	mode := "sync"
	if r.Async {
		mode = "async (Prefer: respond-async)"
	}
	if r.Rate > 0 {
		mode += fmt.Sprintf(", paced at %g requests/s", r.Rate)
	}
	fmt.Fprintf(w, "ledger bench: %s, %d workers, batch %d, %.0fs measured, %d accounts, %s\n",
		r.Target, r.Concurrency, r.Batch, r.DurationS, r.Accounts, mode)
	fmt.Fprintf(w, "  transfers/s  %10.0f\n  requests/s   %10.0f\n", r.TransfersPerSec, r.RequestsPerSec)
	fmt.Fprintf(w, "  latency      %s\n", r.LatencyMS)
	ledger := "not checked"
	if r.Checked {
		ledger = fmt.Sprint(r.LedgerPosted)
	}
	fmt.Fprintf(w, "  posted       %d (ledger: %s), accepted %d, unanswered %d\n", r.Posted, ledger, r.Accepted, r.Unanswered)
	fmt.Fprintf(w, "  errors       %s\n", formatCounts(r.Errors))
	if l := r.ReadModelLag; l != nil {
		fmt.Fprintf(w, "  read model   %s\n", l)
	}
	switch {
	case !r.Checked:
		why := r.CheckError
		if why == "" {
			why = "the run did not finish"
		}
		fmt.Fprintf(w, "  invariants   NOT CHECKED: %s\n", why)
	case r.InvariantsOK:
		fmt.Fprintln(w, "  invariants   ok: BENCH sums to zero, world unchanged, posted count matches the journal")
	default:
		fmt.Fprintln(w, "  invariants   FAILED:")
		for _, f := range r.InvariantFailures {
			fmt.Fprintln(w, "    -", f)
		}
	}
	if b := r.Baseline; b != nil {
		fmt.Fprintln(w, "baseline (same client, workers and duration):")
		fmt.Fprintf(w, "  echo {\"ok\":true}     %10.0f req/s  %s  errors %s\n", b.EchoRequestsPerSec, b.EchoLatencyMS, formatCounts(b.EchoErrors))
		fmt.Fprintf(w, "  api ceiling         %10.0f transfers/s  %s  errors %s\n", b.CeilingTransfersPerSec, b.CeilingLatencyMS, formatCounts(b.CeilingErrors))
		fmt.Fprintf(w, "  jetstream publish   %10.0f msg/s  %s  errors %s\n", b.JetStreamMsgsPerSec, b.JetStreamLatencyMS, formatCounts(b.JetStreamErrors))
		fmt.Fprintf(w, "  api ceiling         = %.3f x echo\n", b.CeilingRatioToEcho)
		fmt.Fprintf(w, "  ledger              %10.0f transfers/s = %.3f x echo, %.3f x api ceiling, %.3f x jetstream\n",
			r.TransfersPerSec, b.RatioToEcho, b.RatioToCeiling, b.RatioToJetStream)
	}
}

func (l Latency) String() string {
	return fmt.Sprintf("ms p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f", l.P50, l.P90, l.P99, l.P999, l.Max)
}

func (l ReadModelLag) String() string {
	s := fmt.Sprintf("lag max %.0f ms, p99 %.0f ms; at most %d events behind (%d samples, every %s)",
		l.MaxMS, l.P99MS, l.MaxEvents, l.Samples, statusPollInterval)
	if l.Failed > 0 {
		s += fmt.Sprintf("; %d polls failed: %s", l.Failed, l.Error)
	}
	return s
}

func formatCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
