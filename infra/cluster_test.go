package infra_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/journalio"
)

// natsNodes is one NATS server, or a cluster of them on loopback, each
// with JetStream on its own temporary store, which a test can stop and
// start again on the same ports and store.
type natsNodes struct {
	t     testing.TB
	opts  []*server.Options
	srvs  []*server.Server
	names journalio.Names
}

// clusterReadyWait bounds how long a cluster takes to elect its
// JetStream meta leader and create the ledger's streams.
const clusterReadyWait = 30 * time.Second

// freePorts returns n distinct loopback ports, free at the time of the
// call: all are held until all are found.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// startNATS starts n servers (1: a single server; 3: a cluster whose
// routes join them all) on 127.0.0.1, and creates the ledger's streams
// with replicas copies each.
func startNATS(t testing.TB, n, replicas int) *natsNodes {
	t.Helper()
	c := &natsNodes{t: t, names: journalio.NamesFor("test")}
	ports := freePorts(t, 2*n)
	clientPorts, clusterPorts := ports[:n], ports[n:]
	for i := range n {
		o := &server.Options{
			ServerName: "n" + strconv.Itoa(i+1),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   filepath.Join(t.TempDir(), "js"),
			NoSigs:     true,
			NoLog:      true,
			MaxPayload: 8 << 20,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "ledger-test", Host: "127.0.0.1", Port: clusterPorts[i]}
			for j, p := range clusterPorts {
				if j != i {
					o.Routes = append(o.Routes, &url.URL{Scheme: "nats", Host: "127.0.0.1:" + strconv.Itoa(p)})
				}
			}
		}
		c.opts = append(c.opts, o)
		c.srvs = append(c.srvs, nil)
	}
	for i := range n {
		c.Start(i)
	}
	t.Cleanup(c.stopAll)
	nc := c.Connect("setup")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(clusterReadyWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = c.createStreams(ctx, js, replicas)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("streams on %d nodes: %v", n, err)
		}
		time.Sleep(100 * time.Millisecond) // polling for the meta leader, not an assertion
	}
	return c
}

// createStreams creates the ledger's streams as EnsureStreams does, with
// replicas copies, and the processor's consumer with as many.
func (c *natsNodes) createStreams(ctx context.Context, js jetstream.JetStream, replicas int) error {
	if replicas == 1 {
		return infra.EnsureStreams(ctx, js, c.names)
	}
	if _, err := js.CreateOrUpdateStream(ctx, infra.JournalConfig(c.names, replicas)); err != nil {
		return err
	}
	s, err := js.CreateOrUpdateStream(ctx, infra.CommandsConfig(c.names, replicas))
	if err != nil {
		return err
	}
	cfg := infra.ProcessorConsumerConfig(c.names)
	cfg.Replicas = replicas
	_, err = s.CreateOrUpdateConsumer(ctx, cfg)
	return err
}

// Start starts node i (again), on its ports and store.
func (c *natsNodes) Start(i int) {
	c.t.Helper()
	o := *c.opts[i]
	o.Routes = append([]*url.URL(nil), c.opts[i].Routes...)
	s, err := server.NewServer(&o)
	if err != nil {
		c.t.Fatalf("nats node %d: %v", i, err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		c.t.Fatalf("nats node %d not ready", i)
	}
	c.srvs[i] = s
}

// Stop shuts node i down, as a crash of its host would (its store stays).
func (c *natsNodes) Stop(i int) {
	if s := c.srvs[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.srvs[i] = nil
	}
}

func (c *natsNodes) stopAll() {
	for i := range c.srvs {
		c.Stop(i)
	}
}

// URLs is the client URL list of every node.
func (c *natsNodes) URLs() string {
	var s string
	for i, o := range c.opts {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf("nats://127.0.0.1:%d", o.Port)
	}
	return s
}

// Connect opens a client connection to the nodes, which reconnects for
// ever; it is closed at the end of the test.
func (c *natsNodes) Connect(name string) *nats.Conn {
	c.t.Helper()
	nc, err := nats.Connect(c.URLs(), nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		c.t.Fatalf("connect %s: %v", name, err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}
