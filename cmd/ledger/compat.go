package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/node"
)

// compatSystem is a seed adapter `serve --compat` can start.
type compatSystem struct {
	// unauthenticated: the system's API has no authentication of its own,
	// so its listener must be a loopback address unless the operator
	// says otherwise (--compat-allow-remote).
	unauthenticated bool
	// handler builds the adapter on the running node: n.Core is its
	// compat.Ledger; an adapter that keeps state of its own (Mixin's users)
	// takes its store from n.JS.
	handler func(n *node.Node, log *slog.Logger) (http.Handler, error)
}

// compatSystems are the adapters by the name --compat takes.
var compatSystems = map[string]compatSystem{}

// compatListen is one --compat SYSTEM=ADDR.
type compatListen struct{ system, addr string }

// compatFlag collects the repeatable --compat flag.
type compatFlag []compatListen

func (f *compatFlag) String() string {
	parts := make([]string, len(*f))
	for i, l := range *f {
		parts[i] = l.system + "=" + l.addr
	}
	return strings.Join(parts, ",")
}

// Set adds one SYSTEM=ADDR, or several separated by commas (the form of
// LEDGER_COMPAT).
func (f *compatFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		system, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if _, known := compatSystems[system]; !ok || !known || addr == "" {
			return fmt.Errorf("%q: want SYSTEM=ADDR with SYSTEM one of %s", part, strings.Join(compatNames(), ", "))
		}
		if slices.ContainsFunc(*f, func(l compatListen) bool { return l.system == system }) {
			return fmt.Errorf("%s is given twice", system)
		}
		*f = append(*f, compatListen{system: system, addr: addr})
	}
	return nil
}

func compatNames() []string {
	names := make([]string, 0, len(compatSystems))
	for n := range compatSystems {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// compatServers are the adapters' listeners, bound before the ledger
// starts (so a busy port is reported first) and served once it has.
type compatServers struct {
	listeners []net.Listener
	servers   []*http.Server
}

// bindCompat binds every adapter's listener, refusing a non-loopback
// address for a system without authentication unless allowRemote.
func bindCompat(flags compatFlag, allowRemote bool) (*compatServers, error) {
	cs := &compatServers{}
	for _, l := range flags {
		if compatSystems[l.system].unauthenticated && !allowRemote && !loopbackAddr(l.addr) {
			cs.close()
			return nil, usagef("--compat %s=%s: %s has no authentication of its own, so it listens only on a loopback address "+
				"(127.0.0.1:PORT); --compat-allow-remote lifts this, for a network you trust (docs/compat/%s.md)", l.system, l.addr, l.system, l.system)
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			cs.close()
			return nil, fmt.Errorf("compat %s listen: %w", l.system, err)
		}
		cs.listeners = append(cs.listeners, ln)
	}
	return cs, nil
}

// loopbackAddr reports whether addr's host is a loopback IP address or
// "localhost" (which the resolver maps to loopback).
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serve starts each adapter on its listener; failures go to done.
func (cs *compatServers) serve(flags compatFlag, n *node.Node, log *slog.Logger, done chan<- error) error {
	for i, l := range flags {
		h, err := compatSystems[l.system].handler(n, log.With("compat", l.system))
		if err != nil {
			return fmt.Errorf("compat %s: %w", l.system, err)
		}
		srv := api.NewHTTPServer(h)
		cs.servers = append(cs.servers, srv)
		ln := cs.listeners[i]
		go func() {
			if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
				done <- fmt.Errorf("compat %s stopped: %w", l.system, err)
			}
		}()
		log.Info("compat adapter serving", "system", l.system, "addr", ln.Addr().String())
	}
	return nil
}

// shutdown lets in-flight requests finish.
func (cs *compatServers) shutdown(ctx context.Context, log *slog.Logger) {
	for _, srv := range cs.servers {
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("compat shutdown", "err", err)
		}
	}
	cs.close()
}

func (cs *compatServers) close() {
	for _, ln := range cs.listeners {
		_ = ln.Close()
	}
}
