package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
)

// TestServeMetricsAddr runs `ledger serve --metrics-addr`, posts a
// transfer, and scrapes the metrics from the listener of their own: they
// parse, count the transfer, and that listener serves no API.
func TestServeMetricsAddr(t *testing.T) {
	addr := freeAddr(t)
	p := startLedger(t, t.TempDir(), "--metrics-addr", addr)
	c := newClient(p.url)
	c.must(t, http.MethodPost, "/v1/assets", map[string]any{"code": "USD", "scale": 2}, http.StatusCreated)
	c.must(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "alice", "asset": "USD"}, http.StatusCreated)
	c.must(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "world", "to": "alice", "amount": "5.00", "asset": "USD"}, http.StatusCreated)

	for _, base := range []string{"http://" + addr, p.url} {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s/metrics: %d %s", base, resp.StatusCode, body)
		}
		var parser expfmt.TextParser
		fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
		if err != nil {
			t.Fatalf("%s/metrics does not parse: %v", base, err)
		}
		var posted float64
		for _, m := range fams["ledger_transfers_total"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == "posted" {
					posted = m.GetCounter().GetValue()
				}
			}
		}
		if posted != 1 {
			t.Errorf("%s/metrics: %v transfers posted, want 1", base, posted)
		}
	}
	resp, err := http.Get("http://" + addr + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the metrics listener answers GET /v1/status with %d, want 404", resp.StatusCode)
	}
}
