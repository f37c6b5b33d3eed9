package natstest

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// An external NATS for tests: a standalone server or a cluster of them,
// each on 127.0.0.1 with ports of its own, apart from any ledger, as an
// operator runs NATS beside the ledger's nodes.

// clusterReadyWait bounds the wait for servers to start and, in a
// cluster, to elect a JetStream meta leader.
const clusterReadyWait = 30 * time.Second

// clusterSizeMax bounds StartCluster: a test on two shared cores cannot
// afford more.
const clusterSizeMax = 5

// ExternalServer is one NATS server started by a test.
type ExternalServer struct {
	Name string
	// URL is the client URL, nats://127.0.0.1:PORT; it stays the same
	// across Restart.
	URL    string
	Server *server.Server
	opts   server.Options
}

// Cluster is a JetStream cluster of servers on loopback.
type Cluster struct {
	Servers []*ExternalServer
}

// URLs are the client URLs of every server.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = s.URL
	}
	return out
}

// StartExternal starts a standalone JetStream server on 127.0.0.1 (no
// credentials), storing under a directory of the test; it stops at the
// end of the test.
func StartExternal(t testing.TB) *ExternalServer {
	t.Helper()
	opts := baseOptions(t, "nats-standalone", freePort(t))
	s := &ExternalServer{Name: opts.ServerName, URL: clientURL(opts.Port), opts: opts}
	s.start(t)
	t.Cleanup(s.Stop)
	waitJetStream(t, []string{s.URL})
	return s
}

// StartCluster starts size JetStream servers on 127.0.0.1 routed into one
// cluster, named nats-1 to nats-size, each storing under a directory of
// the test, and waits until JetStream answers through every one. They
// stop at the end of the test.
func StartCluster(t testing.TB, size int) *Cluster {
	t.Helper()
	if size < 1 || size > clusterSizeMax {
		t.Fatalf("cluster of %d: use 1 to %d", size, clusterSizeMax)
	}
	// A port freePort found may be taken by another test's server before
	// this one listens on it (the packages' tests run at once): such a
	// server never becomes ready, and the cluster is started again on
	// other ports, at most clusterStarts times.
	var err error
	for range clusterStarts {
		var c *Cluster
		if c, err = startCluster(t, size); err == nil {
			for _, s := range c.Servers {
				t.Cleanup(s.Stop)
			}
			waitJetStream(t, c.URLs())
			return c
		}
		t.Logf("cluster start: %v; starting again on other ports", err)
	}
	t.Fatalf("cluster of %d: %v", size, err)
	return nil
}

// clusterStarts bounds the attempts to start a cluster.
const clusterStarts = 3

// startCluster starts the servers of one attempt and waits until each is
// ready for connections; on failure it stops them all.
func startCluster(t testing.TB, size int) (*Cluster, error) {
	routePorts := make([]int, size)
	routes := make([]string, size)
	for i := range routePorts {
		routePorts[i] = freePort(t)
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", routePorts[i])
	}
	c := &Cluster{}
	for i := range size {
		opts := baseOptions(t, fmt.Sprintf("nats-%d", i+1), freePort(t))
		opts.Cluster = server.ClusterOpts{Name: "ledger-test", Host: "127.0.0.1", Port: routePorts[i]}
		opts.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		s := &ExternalServer{Name: opts.ServerName, URL: clientURL(opts.Port), opts: opts}
		c.Servers = append(c.Servers, s)
	}
	stopAll := func() {
		for _, s := range c.Servers {
			s.Stop()
		}
	}
	for _, s := range c.Servers {
		// Started without waiting for each: a clustered JetStream server
		// is ready for clients only once it has found its peers.
		srv, err := server.NewServer(&s.opts)
		if err != nil {
			stopAll()
			return nil, fmt.Errorf("nats server %s: %w", s.Name, err)
		}
		s.Server = srv
		go srv.Start()
	}
	for _, s := range c.Servers {
		if !s.Server.ReadyForConnections(clusterReadyWait) {
			stopAll()
			return nil, fmt.Errorf("nats server %s: not ready in %s", s.Name, clusterReadyWait)
		}
	}
	return c, nil
}

// Stop shuts the server down (a clean shutdown; the test process cannot
// SIGKILL a server in it); it is safe to call twice.
func (s *ExternalServer) Stop() {
	if s.Server != nil {
		s.Server.Shutdown()
		s.Server.WaitForShutdown()
	}
}

// Restart starts the server again after Stop, on the same ports and
// store.
func (s *ExternalServer) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.start(t)
}

func (s *ExternalServer) start(t testing.TB) {
	t.Helper()
	opts := s.opts // NewServer keeps and changes what it is given
	srv, err := server.NewServer(&opts)
	if err != nil {
		t.Fatalf("nats server %s: %v", s.Name, err)
	}
	s.Server = srv
	go srv.Start()
	if !srv.ReadyForConnections(clusterReadyWait) {
		t.Fatalf("nats server %s: not ready in %s", s.Name, clusterReadyWait)
	}
}

func baseOptions(t testing.TB, name string, port int) server.Options {
	return server.Options{
		ServerName:         name,
		Host:               "127.0.0.1",
		Port:               port,
		JetStream:          true,
		StoreDir:           filepath.Join(t.TempDir(), name),
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  16 << 30, // a reservation the streams' limits count against, not disk used
		MaxPayload:         8 << 20,  // the ledger's records reach 8 MiB (infra.StartServer)
		NoSigs:             true,
		NoLog:              true,
	}
}

func clientURL(port int) string { return fmt.Sprintf("nats://127.0.0.1:%d", port) }

// freePort asks the kernel for a free loopback port. Another process may
// take it before the server binds it; on loopback in a test that is rare,
// and the server's start then fails loudly.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitJetStream waits until a JetStream account request answers through
// every URL: in a cluster, once a meta leader is elected.
func waitJetStream(t testing.TB, urls []string) {
	t.Helper()
	deadline := time.Now().Add(clusterReadyWait)
	for _, u := range urls {
		for {
			err := accountInfo(u)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("jetstream at %s not ready in %s: %v", u, clusterReadyWait, err)
			}
			time.Sleep(50 * time.Millisecond) // polling for the election
		}
	}
}

func accountInfo(url string) error {
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}
