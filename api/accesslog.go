package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/trace"
)

// HeaderRequestID carries a request's id: taken from the client when it
// is sane (requestIDSane), generated otherwise, echoed in every answer and
// named in every problem body (request_id) and in the access log.
const HeaderRequestID = "X-Request-Id"

// requestIDMaxBytes bounds a client's request id: it is copied into every
// log line and problem body, so a client may not make them grow.
const requestIDMaxBytes = 128

// requestIDSane reports whether a client's request id may be used as it
// is: 1 to requestIDMaxBytes characters from `A-Z a-z 0-9 - _ . : + / =`
// (UUIDs, hex, base64 and trace ids pass), nothing that could forge a log
// field or a header.
func requestIDSane(id string) bool {
	if id == "" || len(id) > requestIDMaxBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns a random id of 32 hex digits.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestID returns the id of the request c is answering ("" before
// accessLog has run).
func requestID(c echo.Context) string { return c.Response().Header().Get(HeaderRequestID) }

// accessLog gives every request its id (echoed in the X-Request-Id
// header) and, once it is answered, logs one line at info level: method,
// route (the pattern, never the raw path, so that ids in paths do not
// reach the logs), status, duration, request id and, when tracing is on,
// the request's trace id. It runs first (Echo
// Pre), so that refusals before routing are logged too, and answers
// errors itself so that the status it logs is the one sent.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			id := c.Request().Header.Get(HeaderRequestID)
			if !requestIDSane(id) {
				id = newRequestID()
			}
			c.Response().Header().Set(HeaderRequestID, id)
			route := serveRoute(next, c)
			if !log.Enabled(c.Request().Context(), slog.LevelInfo) {
				return nil // the line would be dropped: build none of it
			}
			attrs := []slog.Attr{slog.String("method", c.Request().Method),
				slog.String("route", route),
				slog.Int("status", c.Response().Status),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", id)}
			// The request's span, when tracing is on (tracing.go).
			if sc := trace.SpanContextFromContext(c.Request().Context()); sc.IsValid() {
				attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
			}
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", attrs...)
			return nil
		}
	}
}

// serveRoute runs next, answers its error itself (so that the status a
// wrapping middleware reads is the one sent) and returns the route
// pattern that served the request: "-" when no route matched, never the
// raw path, which would carry ids. The access log, the metrics and the
// request spans all report requests by it.
func serveRoute(next echo.HandlerFunc, c echo.Context) string {
	if err := next(c); err != nil {
		c.Error(err)
	}
	if route := c.Path(); route != "" {
		return route
	}
	return "-"
}
