package api

import (
	"time"

	"github.com/labstack/echo/v4"
)

// Observer is told what the HTTP server does, for metrics. Its methods
// must not block: they run on every request.
type Observer interface {
	// Request is told each request answered: its method, its route
	// pattern ("-" when no route matched; never the raw path, which
	// would carry ids), the status sent and the time taken.
	Request(method, route string, status int, elapsed time.Duration)
	// StreamOpened and StreamClosed are told each GET /v1/events stream
	// opened and closed.
	StreamOpened()
	StreamClosed()
}

// nopObserver is the Observer when Config.Observer is nil.
type nopObserver struct{}

func (nopObserver) Request(string, string, int, time.Duration) {}
func (nopObserver) StreamOpened()                              {}
func (nopObserver) StreamClosed()                              {}

// observeRequests tells obs of every request once it is answered. It runs
// before routing (Echo Pre), inside accessLog, and answers errors itself
// so that the status it reports is the one sent.
func observeRequests(obs Observer) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			route := serveRoute(next, c)
			obs.Request(c.Request().Method, route, c.Response().Status, time.Since(start))
			return nil
		}
	}
}

// metrics serves Config.Metrics (the Prometheus text format), without a
// token, as the health routes are; 503 when none is configured.
func (s *Server) metrics(c echo.Context) error {
	if s.cfg.Metrics == nil {
		return problem(CodeUnavailable, "metrics are not configured on this server")
	}
	s.cfg.Metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}
