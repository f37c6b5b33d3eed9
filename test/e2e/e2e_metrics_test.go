package e2e_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/nats-ledger/ledger/node"
)

// e2eMetrics scrapes GET /metrics without a token, as Prometheus does, and
// parses it with the Prometheus text parser.
func (l *e2eLedger) metrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := l.client.Get(l.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("GET /metrics does not parse: %v\n%s", err, body)
	}
	return fams
}

// metricValue is the value of the counter or gauge name whose labels are
// exactly labels ("k=v" pairs), and whether it is there.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		got := make([]string, 0, len(m.GetLabel()))
		for _, lp := range m.GetLabel() {
			got = append(got, lp.GetName()+"="+lp.GetValue())
		}
		if strings.Join(got, ",") != strings.Join(labels, ",") {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// TestE2EMetrics posts transfers that are posted and rejected through the
// real server, reads an account and a path no route serves, and checks
// that /metrics, scraped without a token and parsed with the Prometheus
// text parser, counts exactly what was asked: transfers by outcome and
// code, HTTP requests by route pattern, method and status, no command in
// flight, and, once the read model has caught up, no lag.
func TestE2EMetrics(t *testing.T) {
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.mint(t, "alice", "10.00")
	for i := range 3 {
		l.post(t, map[string]any{"id": fmt.Sprintf("m-ok-%d", i), "from": "alice", "to": "bob", "amount": "1.00"})
	}
	for i := range 2 {
		r := l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": fmt.Sprintf("m-no-%d", i), "from": "alice", "to": "bob", "amount": "1000.00"})
		e2eCheckProblem(t, r, http.StatusUnprocessableEntity, "insufficient_funds", "")
	}
	// A replay of a posted transfer is answered, not posted again.
	if r := l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "m-ok-0", "from": "alice", "to": "bob", "amount": "1.00"}); r.Status != http.StatusOK {
		t.Fatalf("replay: %s", r)
	}
	if r := l.do(t, http.MethodGet, "/v1/accounts/bob", nil); r.Status != http.StatusOK {
		t.Fatalf("%s", r)
	}
	if r := l.do(t, http.MethodGet, "/v1/no-such-route/42", nil); r.Status != http.StatusNotFound {
		t.Fatalf("%s", r)
	}
	l.settle(t)
	doc := oaLoadDoc(t)
	st := l.status(t, doc)

	fams := l.metrics(t)
	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"ledger_transfers_total", []string{"code=", "outcome=posted"}, 4}, // the mint and three transfers
		{"ledger_transfers_total", []string{"code=", "outcome=replayed"}, 1},
		{"ledger_transfers_total", []string{"code=insufficient_funds", "outcome=rejected"}, 2},
		{"ledger_http_requests_total", []string{"method=POST", "route=/v1/transfers", "status=201"}, 4},
		// A replay answers 200 with the transfer as first posted.
		{"ledger_http_requests_total", []string{"method=POST", "route=/v1/transfers", "status=200"}, 1},
		{"ledger_http_requests_total", []string{"method=POST", "route=/v1/transfers", "status=422"}, 2},
		{"ledger_http_requests_total", []string{"method=POST", "route=/v1/accounts", "status=201"}, 2},
		{"ledger_http_requests_total", []string{"method=GET", "route=/v1/accounts/:id", "status=200"}, 1},
		{"ledger_http_requests_total", []string{"method=GET", "route=-", "status=404"}, 1},
		{"ledger_journal_sequence", nil, float64(st.Journal.Sequence)},
		{"ledger_read_model_sequence", nil, float64(st.Journal.Sequence)},
		{"ledger_read_model_lag_events", nil, 0},
		{"ledger_read_model_lag_seconds", nil, 0},
		{"ledger_commands_in_flight", nil, 0},
		{"ledger_sse_clients", nil, 0},
		{"ledger_ready", nil, 1},
		{"ledger_processor_active", nil, 1},
		{"ledger_processor_hot_ids", nil, 4}, // the ids of the mint and the three transfers
	}
	for _, w := range want {
		got, ok := metricValue(fams, w.name, w.labels...)
		if !ok || got != w.value {
			t.Errorf("%s{%s} = %v (present %v), want %v", w.name, strings.Join(w.labels, ","), got, ok, w.value)
		}
	}
	for _, name := range []string{"ledger_http_request_duration_seconds", "ledger_processor_decide_seconds",
		"ledger_processor_batch_messages", "ledger_journal_append_seconds"} {
		if f, ok := fams[name]; !ok || len(f.GetMetric()) == 0 || f.GetMetric()[0].GetHistogram().GetSampleCount() == 0 {
			t.Errorf("histogram %s has no samples", name)
		}
	}
	// The first scrape is counted once answered: the second one sees it.
	fams = l.metrics(t)
	if got, _ := metricValue(fams, "ledger_http_requests_total", "method=GET", "route=/metrics", "status=200"); got != 1 {
		t.Errorf("GET /metrics counted %v times after one scrape, want 1", got)
	}
}

// TestE2EMetricsWebhooksAndStreams checks the webhook delivery counters
// and the event-stream gauge against what a real node did: one transfer
// delivered to an endpoint that accepts it, and to one that always fails
// (e2eWebhookConfig: two retries, then a dead letter); one GET /v1/events
// stream open, then closed.
func TestE2EMetricsWebhooksAndStreams(t *testing.T) {
	l := e2eStartWith(t, node.Config{Webhooks: e2eWebhookConfig})
	l.seedPayments(t, 1)
	ok, failing := newReceiver(t), newReceiver(t)
	failing.status.Store(http.StatusInternalServerError)
	l.createWebhook(t, map[string]any{"url": ok.srv.URL, "events": []string{"TransferPosted"}})
	bad := l.createWebhook(t, map[string]any{"url": failing.srv.URL, "events": []string{"TransferPosted"}})
	l.post(t, map[string]any{"id": "wh-1", "from": "alice", "to": "bob", "amount": "1.00"})
	e2eEventually(t, e2eOutcomeWait, "a delivery and a dead letter", func() (bool, string) {
		dl := l.deadLetters(t, bad.ID)
		return len(ok.seqs()) == 1 && len(dl) == 1, fmt.Sprint(ok.seqs(), len(dl))
	})
	fams := l.metrics(t)
	for result, want := range map[string]float64{"delivered": 1, "retried": 2, "dead_lettered": 1} {
		if got, _ := metricValue(fams, "ledger_webhook_deliveries_total", "result="+result); got != want {
			t.Errorf("ledger_webhook_deliveries_total{result=%q} = %v, want %v", result, got, want)
		}
	}

	stream := l.openEvents(t, l.client, l.base, "")
	sse := func(want float64) func() (bool, string) {
		return func() (bool, string) {
			got, _ := metricValue(l.metrics(t), "ledger_sse_clients")
			return got == want, fmt.Sprint("ledger_sse_clients ", got)
		}
	}
	e2eEventually(t, e2eOutcomeWait, "one stream counted", sse(1))
	stream.close()
	e2eEventually(t, e2eOutcomeWait, "no stream counted", sse(0))
}
