// Package metrics is the ledger's Prometheus instrumentation: one registry
// per node (never the global default, so that several nodes in one process
// do not collide), the collectors docs/operations.md ("Metrics") lists, and
// the observers the API, the processor and webhook delivery report to.
//
// Every label set is bounded: HTTP routes are the router's patterns (never
// raw paths; an unmatched request counts as "-"), methods are folded to the
// ones the API serves, statuses are the few the server sends, and reject
// codes are the domain's fixed table (domain/errors.go).
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// namespace prefixes every metric of the ledger's own.
const namespace = "ledger"

// Metrics holds a node's registry and its collectors. Its methods are safe
// for concurrent use and never block.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	transfers     *prometheus.CounterVec
	decideSeconds prometheus.Histogram
	batchMessages prometheus.Histogram
	batchEvents   prometheus.Histogram
	appendSeconds prometheus.Histogram
	snapSeconds   prometheus.Histogram
	snapSaved     prometheus.Gauge // unix time of the last snapshot saved
	webhook       *prometheus.CounterVec
	sseClients    prometheus.Gauge
}

// New returns metrics on a registry of their own, with the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status."}, []string{"route", "method", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route pattern and method.", Buckets: prometheus.DefBuckets}, []string{"route", "method"})
	m.transfers = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "transfers_total",
		Help: "Transfers decided and journaled, by outcome (posted, replayed, rejected) and reject code."}, []string{"outcome", "code"})
	m.decideSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "processor_decide_seconds",
		Help: "Time the processor takes to decide one batch of command messages, before the append.", Buckets: fastBuckets})
	m.batchMessages = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "processor_batch_messages",
		Help: "Command messages decided per processor batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 9)})
	m.batchEvents = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "processor_batch_events",
		Help: "Events appended to the journal per processor batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)})
	m.appendSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "journal_append_seconds",
		Help: "Latency of one fenced journal append (JetStream publish and acknowledgement).", Buckets: fastBuckets})
	m.snapSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "snapshot_duration_seconds",
		Help: "Time to encode and store one processor snapshot.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)})
	m.snapSaved = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "snapshot_last_saved_timestamp_seconds",
		Help: "Unix time of the last snapshot this node saved (0: none since the start)."})
	m.webhook = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "webhook_deliveries_total",
		Help: "Webhook delivery attempts by result: delivered, retried (failed, another attempt due), dead_lettered."}, []string{"result"})
	m.sseClients = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "sse_clients",
		Help: "Open GET /v1/events streams."})
	for _, c := range []prometheus.Collector{m.httpRequests, m.httpDuration, m.transfers, m.decideSeconds, m.batchMessages,
		m.batchEvents, m.appendSeconds, m.snapSeconds, m.snapSaved, m.webhook, m.sseClients} {
		f(c)
	}
	return m
}

// Metrics is what the processor reports to.
var _ commands.Observer = (*Metrics)(nil)

// fastBuckets spans 100 µs to about 6.5 s: an append or a decision is
// normally a few milliseconds, and anything past seconds is an incident.
var fastBuckets = prometheus.ExponentialBuckets(0.0001, 4, 9)

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// GaugeFunc registers a gauge whose value fn gives at each scrape, for
// figures the node already keeps (positions, counts in flight) so that
// they are read rather than counted twice. fn must answer from memory.
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, fn))
}

// Request counts one HTTP request answered (api.Observer).
func (m *Metrics) Request(method, route string, status int, elapsed time.Duration) {
	method = foldMethod(method)
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(foldStatus(status))).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}

// StreamOpened and StreamClosed follow the open event streams (api.Observer).
func (m *Metrics) StreamOpened() { m.sseClients.Inc() }

// StreamClosed: see StreamOpened.
func (m *Metrics) StreamClosed() { m.sseClients.Dec() }

// Transfer counts one transfer decided and journaled (commands.Observer).
func (m *Metrics) Transfer(outcome commands.Outcome, code domain.Code) {
	m.transfers.WithLabelValues(string(outcome), string(code)).Inc()
}

// Batch records one processor batch (commands.Observer).
func (m *Metrics) Batch(messages, events int, decide time.Duration) {
	m.batchMessages.Observe(float64(messages))
	m.batchEvents.Observe(float64(events))
	m.decideSeconds.Observe(decide.Seconds())
}

// Snapshot records one snapshot saved (commands.Observer).
func (m *Metrics) Snapshot(elapsed time.Duration, at time.Time) {
	m.snapSeconds.Observe(elapsed.Seconds())
	m.snapSaved.Set(float64(at.UnixNano()) / 1e9)
}

// Append records one journal append's latency.
func (m *Metrics) Append(elapsed time.Duration) { m.appendSeconds.Observe(elapsed.Seconds()) }

// WebhookDelivered, WebhookRetried and WebhookDeadLettered count webhook
// delivery attempts (infra/webhook.Observer).
func (m *Metrics) WebhookDelivered() { m.webhook.WithLabelValues("delivered").Inc() }

// WebhookRetried: see WebhookDelivered.
func (m *Metrics) WebhookRetried() { m.webhook.WithLabelValues("retried").Inc() }

// WebhookDeadLettered: see WebhookDelivered.
func (m *Metrics) WebhookDeadLettered() { m.webhook.WithLabelValues("dead_lettered").Inc() }

// foldMethod keeps the label to the methods the API serves; anything else
// a client sends counts as "other", so that clients cannot grow the set.
func foldMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}

// foldStatus keeps the label to real HTTP statuses (100-599); the server
// sends a few dozen of them at most.
func foldStatus(status int) int {
	if status < 100 || status > 599 {
		return 0
	}
	return status
}
