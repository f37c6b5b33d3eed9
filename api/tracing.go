package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// AttrRequestID names the request span's attribute holding the access
// log's request id (X-Request-Id), so that a log line and a trace meet.
const AttrRequestID = "ledger.request_id"

// traceRequests gives every request a server span, named by its route
// pattern once routed ("POST /v1/transfers"; "-" when no route matched,
// as in the access log), continuing the caller's W3C traceparent if it
// sent one. The span is in the request's context, which the submitter
// carries into the command message (tracing). It runs in Echo
// Pre right after accessLog, which reads the trace id back from the
// request's context for its line. Installed only when tracing is on.
func traceRequests(tracer trace.Tracer) echo.MiddlewareFunc {
	prop := propagation.TraceContext{}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", r.Method),
					attribute.String(AttrRequestID, requestID(c))))
			defer span.End()
			c.SetRequest(r.WithContext(ctx))
			route := serveRoute(next, c)
			status := c.Response().Status
			span.SetName(r.Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
			if status >= http.StatusInternalServerError {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			return nil
		}
	}
}
