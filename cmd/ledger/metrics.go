package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/nats-ledger/ledger/api"
)

// bindMetrics binds --metrics-addr before anything heavy starts, as the
// HTTP listener is; nil when it is empty.
func bindMetrics(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	return ln, nil
}

// serveMetrics serves h at /metrics on ln (nothing when ln is nil) until
// the returned stop is called. The listener answers nothing else, so that
// a scraper given this port sees no API.
func serveMetrics(ln net.Listener, h http.Handler, log *slog.Logger) (stop func()) {
	if ln == nil {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: api.HTTPReadHeaderTimeout}
	go func() { _ = srv.Serve(ln) }()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }
}
