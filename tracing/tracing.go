// Package tracing carries W3C trace context (the traceparent) across the
// ledger's NATS hops: as a string in a command message's or a journal
// record's headers, from the HTTP request to the processor and from the
// processor to the projector (docs/operations.md, "Traces"; ADR 0021).
// Nothing here creates a span unless it is handed a tracer: a nil
// trace.Tracer is tracing off, and costs nothing.
package tracing

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Header is the message header that carries a traceparent, spelled as the
// W3C recommends. NATS headers are case-sensitive: always this spelling.
const Header = "traceparent"

// MaxLinks bounds the traceparents a command message carries and the links
// one span takes: a coalesced message may answer 1,000 requests and a
// processor batch 256 messages, and a header or span must not grow with
// them. Past it, requests are still decided, only not linked.
const MaxLinks = 64

var w3c = propagation.TraceContext{}

// Traceparent returns sc as a traceparent header value, "" when sc is not
// valid (no span: tracing off).
func Traceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	w3c.Inject(trace.ContextWithSpanContext(context.Background(), sc), c)
	return c[Header]
}

// FromContext returns the traceparent of ctx's span, "" when there is none.
func FromContext(ctx context.Context) string {
	return Traceparent(trace.SpanContextFromContext(ctx))
}

// Parse reads a traceparent; the result is not valid when tp is not one.
func Parse(tp string) trace.SpanContext {
	if tp == "" {
		return trace.SpanContext{}
	}
	ctx := w3c.Extract(context.Background(), propagation.MapCarrier{Header: tp})
	return trace.SpanContextFromContext(ctx)
}

// Start starts a span of tracer whose parent is the first valid
// traceparent of parents and which links to the others, up to MaxLinks:
// work done for many requests at once (a processor batch, a read-model
// transaction) belongs to the first request's trace and is reachable from
// the others' (ADR 0021). With no valid parent it starts a root span.
func Start(tracer trace.Tracer, name string, parents []string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	ctx := context.Background()
	var links []trace.Link
	seen := make(map[trace.SpanID]bool, min(len(parents), MaxLinks))
	for _, tp := range parents {
		sc := Parse(tp)
		if !sc.IsValid() || seen[sc.SpanID()] {
			continue
		}
		seen[sc.SpanID()] = true
		if !trace.SpanContextFromContext(ctx).IsValid() {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
			continue
		}
		if len(links) == MaxLinks {
			break
		}
		links = append(links, trace.Link{SpanContext: sc})
	}
	if len(links) > 0 {
		opts = append(opts, trace.WithLinks(links...))
	}
	return tracer.Start(ctx, name, opts...)
}
