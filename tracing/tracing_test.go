package tracing_test

import (
	"fmt"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/nats-ledger/ledger/tracing"
)

// TestStartParentsOnTheFirstAndLinksTheRest: the span's parent is the
// first valid traceparent, the others are links (each once, at most
// MaxLinks), and what does not parse is ignored.
func TestStartParentsOnTheFirstAndLinksTheRest(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithRawSpanLimits(sdktrace.SpanLimits{
		AttributeCountLimit: 128, EventCountLimit: 128, LinkCountLimit: 1000, AttributePerEventCountLimit: 128, AttributePerLinkCountLimit: 128}))
	tracer := tp.Tracer("test")
	parents := []string{"", "not-a-traceparent"}
	for i := range 2 * tracing.MaxLinks {
		parents = append(parents, fmt.Sprintf("00-%032x-%016x-01", i+1, i+1))
	}
	parents = append(parents, parents[3]) // a repeat is linked once
	_, span := tracing.Start(tracer, "batch", parents)
	span.End()
	got := exp.GetSpans()[0]
	if want := tracing.Parse(parents[2]); got.Parent.SpanID() != want.SpanID() || got.SpanContext.TraceID() != want.TraceID() {
		t.Errorf("parent %v in trace %v, want %v", got.Parent.SpanID(), got.SpanContext.TraceID(), want)
	}
	if len(got.Links) != tracing.MaxLinks || got.Links[0].SpanContext.SpanID() != tracing.Parse(parents[3]).SpanID() {
		t.Errorf("%d links, first %v: want %d, from the second traceparent", len(got.Links), got.Links[0].SpanContext.SpanID(), tracing.MaxLinks)
	}
	if tp := tracing.Traceparent(got.SpanContext); !tracing.Parse(tp).Equal(got.SpanContext.WithRemote(true)) {
		t.Errorf("traceparent %q does not read back as %v", tp, got.SpanContext)
	}
	_, root := tracing.Start(tracer, "untraced", nil)
	root.End()
	if r := exp.GetSpans()[1]; r.Parent.IsValid() || len(r.Links) != 0 {
		t.Errorf("a span without traceparents has parent %v and %d links", r.Parent, len(r.Links))
	}
	if tp := tracing.Traceparent(trace.SpanContext{}); tp != "" {
		t.Errorf("no span gives traceparent %q, want none", tp)
	}
}
