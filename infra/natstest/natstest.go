// Package natstest starts a real embedded JetStream server for tests: the
// same server the product embeds, storing in a directory the test owns.
package natstest

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/infra"
)

// Server is a running test server with the ledger's streams created.
type Server struct {
	NC    *nats.Conn
	JS    jetstream.JetStream
	Names infra.Names
	stop  func()
}

// Start runs a server storing in dir (use t.TempDir(), or the same dir
// again to test a restart) and creates the ledger's streams. The server
// stops at the end of the test, or earlier with Stop.
func Start(t testing.TB, dir string) *Server {
	t.Helper()
	_, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dir})
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		stop()
		t.Fatalf("jetstream: %v", err)
	}
	names := infra.NamesFor("test")
	if err := infra.EnsureStreams(context.Background(), js, names); err != nil {
		stop()
		t.Fatalf("streams: %v", err)
	}
	s := &Server{NC: nc, JS: js, Names: names, stop: stop}
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down; it is safe to call twice.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}
