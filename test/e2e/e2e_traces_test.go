package e2e_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/node"
	"github.com/nats-ledger/ledger/tracing"
)

// e2eTracedLedger starts a ledger whose spans go to an in-memory exporter,
// synchronously (each span is exported as it ends).
func e2eTracedLedger(t *testing.T, cfg node.Config) (*e2eLedger, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	cfg.Tracer = tp.Tracer("ledger-e2e")
	return e2eStartWith(t, cfg), exp
}

// e2eSpanNamed returns the ended span named name whose trace is traceID,
// or one whose parent is parent when parent is valid.
func e2eSpanWhere(spans tracetest.SpanStubs, name string, parent trace.SpanContext) (tracetest.SpanStub, bool) {
	for _, s := range spans {
		if s.Name == name && s.Parent.SpanID() == parent.SpanID() && s.Parent.TraceID() == parent.TraceID() {
			return s, true
		}
	}
	return tracetest.SpanStub{}, false
}

// TestE2ETraceOfATransfer posts a transfer through a real node's HTTP API
// with tracing on and finds one trace holding the request's span (named
// by its route, with the access log's request id), the processor's span
// deciding it (its child, through the command message's traceparent) and
// the projector's span applying it (the processor span's child, through
// the journal record's traceparent); and the trace id in the access log.
func TestE2ETraceOfATransfer(t *testing.T) {
	logs := &e2eLogBuffer{}
	l, exp := e2eTracedLedger(t, node.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.mint(t, "alice", "10.00")
	// A read waits for the writes before it to be projected, so that the
	// transfer's record is the first of its read-model transaction (the
	// transaction's span is a child of its first record's, and linked to
	// the others': ADR 0021).
	if r := l.do(t, http.MethodGet, "/v1/accounts/alice", nil); r.Status != http.StatusOK {
		t.Fatalf("alice: %s", r)
	}

	r := l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "t-traced", "from": "alice", "to": "bob", "amount": "2.50"},
		"X-Request-Id", "req-traced")
	if r.Status != http.StatusCreated {
		t.Fatalf("transfer: %s, want 201", r)
	}
	var httpSpan, decide, project tracetest.SpanStub
	e2eEventually(t, e2eOutcomeWait, "the transfer's request, decision and projection spans", func() (bool, string) {
		spans := exp.GetSpans()
		var ok bool
		httpSpan, ok = func() (tracetest.SpanStub, bool) {
			for _, s := range spans {
				for _, a := range s.Attributes {
					if a.Key == api.AttrRequestID && a.Value.AsString() == "req-traced" {
						return s, true
					}
				}
			}
			return tracetest.SpanStub{}, false
		}()
		if !ok {
			return false, fmt.Sprintf("no span with request id req-traced among %d", len(spans))
		}
		if decide, ok = e2eSpanWhere(spans, "ledger.decide", httpSpan.SpanContext); !ok {
			return false, "no ledger.decide span under the request's span"
		}
		if project, ok = e2eSpanWhere(spans, "ledger.project", decide.SpanContext); !ok {
			return false, fmt.Sprintf("no ledger.project span under the decision's span %v: %v", decide.SpanContext.SpanID(), e2eSpanSummary(spans))
		}
		return true, ""
	})
	if httpSpan.Name != "POST /v1/transfers" || httpSpan.SpanKind != trace.SpanKindServer {
		t.Errorf("request span: name %q kind %v, want %q, server", httpSpan.Name, httpSpan.SpanKind, "POST /v1/transfers")
	}
	want := map[attribute.Key]string{"http.route": "/v1/transfers", "http.request.method": "POST"}
	for _, a := range httpSpan.Attributes {
		if v, ok := want[a.Key]; ok && a.Value.AsString() == v {
			delete(want, a.Key)
		}
	}
	if len(want) > 0 {
		t.Errorf("request span lacks attributes %v: %v", want, httpSpan.Attributes)
	}
	id := httpSpan.SpanContext.TraceID()
	if decide.SpanContext.TraceID() != id || project.SpanContext.TraceID() != id {
		t.Errorf("trace ids: request %s, decision %s, projection %s: want one trace", id, decide.SpanContext.TraceID(), project.SpanContext.TraceID())
	}
	if line := logs.accessLine(t, "req-traced"); line["trace_id"] != id.String() {
		t.Errorf("access log trace_id = %v, want %s", line["trace_id"], id)
	}
	// Every record carries the headers docs/journal.md lists for a traced
	// ledger, and the transfer's the decision's traceparent.
	doc, err := os.ReadFile("../../docs/journal.md")
	if err != nil {
		t.Fatal(err)
	}
	checkRecordHeaders(t, l, string(doc), true)
	// The header is outside the hash chain: the journal audits clean.
	res, err := audit.Run(context.Background(), &audit.JetStreamSource{JS: l.node.JS, Names: l.node.Names}, audit.Options{})
	if err != nil || !res.Report.OK {
		t.Fatalf("audit of a traced journal: %v %v", err, res.Report.Findings)
	}
	last, err := l.node.JS.Stream(context.Background(), l.node.Names.JournalStream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := last.GetLastMsgForSubject(context.Background(), l.node.Names.EventSubject("TransferPosted"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := msg.Header.Get(tracing.Header), tracing.Traceparent(decide.SpanContext); got != want {
		t.Errorf("record traceparent = %q, want the decision's %q", got, want)
	}
}

// TestE2ENoTracesWhenOff posts requests with tracing off (the default),
// one of them with a caller's traceparent, and finds no traceparent on the
// command messages (watched as they are published) nor on the journal's
// records, and no trace id in the access log.
func TestE2ENoTracesWhenOff(t *testing.T) {
	logs := &e2eLogBuffer{}
	l := e2eStartWith(t, node.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	// Bounded by the requests below: a handful of messages.
	cmds := make(chan *nats.Msg, 64)
	sub, err := l.node.NC.ChanSubscribe(l.node.Names.CommandsSubject, cmds)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := l.node.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.mint(t, "alice", "10.00")
	r := l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "alice", "to": "bob", "amount": "2.50"},
		"X-Request-Id", "req-untraced", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if r.Status != http.StatusCreated {
		t.Fatalf("transfer: %s", r)
	}
	if err := l.node.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	seen := 0
	e2eEventually(t, e2eOutcomeWait, "the five command messages", func() (bool, string) {
		for {
			select {
			case m := <-cmds:
				seen++
				if v, ok := m.Header[tracing.Header]; ok {
					t.Errorf("command message has a traceparent header %q with tracing off", v)
				}
				continue
			default:
			}
			return seen >= 5, fmt.Sprintf("%d seen", seen)
		}
	})
	ctx := context.Background()
	s, err := l.node.JS.Stream(ctx, l.node.Names.JournalStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("record %d: %v", seq, err)
		}
		if v, ok := m.Header[tracing.Header]; ok {
			t.Errorf("journal record %d has a traceparent header %q with tracing off", seq, v)
		}
	}
	if line := logs.accessLine(t, "req-untraced"); line["trace_id"] != nil {
		t.Errorf("access log has a trace_id with tracing off: %v", line)
	}
}

// e2eSpanSummary names spans with their ids and parents, for a failure.
func e2eSpanSummary(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, fmt.Sprintf("%s %s<-%s links %d", s.Name, s.SpanContext.SpanID(), s.Parent.SpanID(), len(s.Links)))
	}
	return out
}

// TestE2ETracesOfConcurrentTransfers posts transfers at once, so that
// group commit packs several into one command message and the processor
// decides several messages in one batch, and finds every request's span
// reached from a decision span: as its parent (the first traced request
// of the batch) or through a link (the others; ADR 0021). Every decision
// span is in turn the parent or a link of a projection span.
func TestE2ETracesOfConcurrentTransfers(t *testing.T) {
	l, exp := e2eTracedLedger(t, node.Config{})
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.mint(t, "alice", "1000.00")
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := l.send(http.MethodPost, "/v1/transfers", map[string]any{"id": fmt.Sprintf("c-%d", i), "from": "alice", "to": "bob", "amount": "1.00"})
			if err != nil || r.Status != http.StatusCreated {
				t.Errorf("transfer %d: %v %v", i, r, err)
			}
		}()
	}
	wg.Wait()
	reached := func(spans tracetest.SpanStubs, name string, sc trace.SpanContext) bool {
		for _, s := range spans {
			if s.Name != name {
				continue
			}
			if s.Parent.SpanID() == sc.SpanID() {
				return true
			}
			for _, link := range s.Links {
				if link.SpanContext.SpanID() == sc.SpanID() && link.SpanContext.TraceID() == sc.TraceID() {
					return true
				}
			}
		}
		return false
	}
	e2eEventually(t, e2eOutcomeWait, "every request's span reached from a decision, every decision's from a projection", func() (bool, string) {
		spans := exp.GetSpans()
		requests, decisions := 0, 0
		for _, s := range spans {
			switch s.Name {
			case "POST /v1/transfers":
				requests++
				if !reached(spans, "ledger.decide", s.SpanContext) {
					return false, "request span " + s.SpanContext.SpanID().String() + " is reached from no decision"
				}
			case "ledger.decide":
				decisions++
				if !reached(spans, "ledger.project", s.SpanContext) {
					return false, "decision span " + s.SpanContext.SpanID().String() + " is reached from no projection"
				}
			}
		}
		return requests == n+1, fmt.Sprintf("%d request spans, %d decisions", requests, decisions)
	})
	links := 0
	for _, s := range exp.GetSpans() {
		if s.Name == "ledger.decide" {
			links += len(s.Links)
		}
	}
	t.Logf("decision spans carry %d links", links)
}
