package node_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/node"
)

// On a cluster, the API node's projector reads the journal through an
// ephemeral consumer held by one NATS server. Stopping that server stops
// the read model following the journal, without the projector stopping;
// the node then fails (Failed, which ledger serve exits on, for a
// supervisor to restart it) once its read model has applied nothing for
// the stall limit while the journal grew.
func TestStalledProjectorFailsTheNode(t *testing.T) {
	cluster := natstest.StartCluster(t, 3)
	r3 := func(c *node.Config) { c.Replicas = 3; c.StallLimit = 2 * time.Second }
	startRole(t, cluster.URLs(), node.Roles{node.RoleProcessor}, r3)
	api := startRole(t, cluster.URLs(), node.Roles{node.RoleAPI}, r3)
	must(t, api.post(t, "/v1/assets", `{"code":"USD","scale":2}`), http.StatusCreated, "asset")

	ctx := context.Background()
	journal, err := api.node.JS.Stream(ctx, api.node.Names.JournalStream)
	if err != nil {
		t.Fatal(err)
	}
	var holder string
	for name := range journal.ConsumerNames(ctx).Name() {
		if strings.HasPrefix(name, "projections_") {
			c, err := journal.Consumer(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			holder = c.CachedInfo().Cluster.Leader
		}
	}
	for _, s := range cluster.Servers {
		if s.Name == holder {
			s.Stop()
		}
	}
	if holder == "" {
		t.Fatal("no projector consumer on the journal")
	}
	// The journal grows: the processor decides on the servers left (202:
	// opened, and this node's read model does not show it). While the
	// cluster elects new leaders for what the stopped server led, the
	// write may be unconfirmed (503, "retry with the same id"): retried as
	// a client does, a bounded number of times.
	// A retry of a write that was stored meanwhile is its replay (200).
	r := api.post(t, "/v1/accounts", `{"id":"alice","asset":"USD"}`)
	retried := false
	for try := 0; r.Status == http.StatusServiceUnavailable && try < unconfirmedRetries; try++ {
		time.Sleep(500 * time.Millisecond)
		r, retried = api.post(t, "/v1/accounts", `{"id":"alice","asset":"USD"}`), true
	}
	if r.Status != http.StatusCreated && r.Status != http.StatusAccepted && !(retried && r.Status == http.StatusOK) {
		t.Fatalf("account after the server stopped: %d %s", r.Status, r.Body)
	}
	select {
	case err := <-api.node.Failed():
		if !strings.Contains(err.Error(), "projections stalled") {
			t.Fatalf("the node failed with %v, want projections stalled", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the node did not report its stalled read model")
	}
}

// unconfirmedRetries bounds the retries of a write answered 503 while a
// cluster fails over (some 10 s with the pause between them).
const unconfirmedRetries = 20
