package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
)

// TestServeGCPercent: ledger serve runs with the collector's target at
// defaultGCPercent when GOGC is not set, and with GOGC's when it is, as
// its own metrics report it (go_gc_gogc_percent).
func TestServeGCPercent(t *testing.T) {
	for _, tc := range []struct {
		gogc string
		want float64
	}{{"", defaultGCPercent}, {"100", 100}, {"350", 350}} {
		t.Run("GOGC="+tc.gogc, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc)
			p := startLedger(t, t.TempDir())
			resp, err := http.Get(p.url + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var parser expfmt.TextParser
			fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
			if err != nil {
				t.Fatalf("/metrics does not parse: %v", err)
			}
			ms := fams["go_gc_gogc_percent"].GetMetric()
			if len(ms) != 1 {
				t.Fatalf("go_gc_gogc_percent: %d series, want 1", len(ms))
			}
			if got := ms[0].GetGauge().GetValue(); got != tc.want {
				t.Fatalf("go_gc_gogc_percent %v, want %v", got, tc.want)
			}
		})
	}
}
