package node_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/internal/ledgertest"
	"github.com/nats-ledger/ledger/node"
)

// On a three-server cluster with --replicas 3, every stream the ledger
// creates (journal, commands, snapshots, checkpoints, webhook buckets)
// has three replicas, and the processor's consumer too; a transfer sent
// to an API node connected to one server is decided by a processor node
// connected to another. A node asking for 1 replica on the cluster is
// refused and says why, unless told to allow it; and a stream is never
// reduced from 3 to 1.
func TestReplicasOnACluster(t *testing.T) {
	cluster := natstest.StartCluster(t, 3)
	urls := cluster.URLs()
	// Three replicas on a loaded machine can take longer than the default
	// sync timeout to decide the first commands (an answer of 202): this
	// test is about where the streams live, so it waits longer.
	r3 := func(c *node.Config) { c.Replicas, c.SyncTimeout = 3, time.Minute }
	startRole(t, urls[1:2], node.Roles{node.RoleProcessor}, r3)
	api := startRole(t, urls[0:1], node.Roles{node.RoleAPI}, r3)
	must(t, api.post(t, "/v1/assets", `{"code":"USD","scale":2}`), http.StatusCreated, "asset")
	must(t, api.post(t, "/v1/accounts", `{"id":"alice","asset":"USD"}`), http.StatusCreated, "account")
	must(t, api.post(t, "/v1/transfers", `{"id":"t1","from":"world","to":"alice","amount":"1","asset":"USD"}`),
		http.StatusCreated, "transfer")

	streams := 0
	for name := range api.node.JS.StreamNames(context.Background()).Name() {
		s, err := api.node.JS.Stream(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("stream %s has %d replicas, want 3", name, r)
		}
		streams++
	}
	for _, want := range []string{api.node.Names.JournalStream, api.node.Names.CommandsStream, infra.CheckpointStream(api.node.Names),
		infra.ObjectStream(api.node.Names.SnapshotBucket())} {
		if _, err := api.node.JS.Stream(context.Background(), want); err != nil {
			t.Errorf("stream %s: %v", want, err)
		}
	}
	if streams < 6 {
		t.Errorf("%d streams, want journal, commands, checkpoints, snapshots and the two webhook buckets", streams)
	}
	cons, err := api.node.JS.Consumer(context.Background(), api.node.Names.CommandsStream, api.node.Names.ProcessorName)
	if err != nil {
		t.Fatal(err)
	}
	if r := cons.CachedInfo().Config.Replicas; r != 0 && r != 3 {
		t.Errorf("the processor's consumer has %d replicas, want the stream's 3", r)
	}
	if n := len(cons.CachedInfo().Cluster.Replicas) + 1; n != 3 {
		t.Errorf("the processor's consumer is on %d servers, want 3", n)
	}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, err = node.Start(context.Background(), node.Config{DataDir: t.TempDir(), Roles: node.Roles{node.RoleProcessor},
		NATS: infra.ClientConfig{URLs: urls}, Logger: quiet})
	if !errors.Is(err, infra.ErrR1OnCluster) || !strings.Contains(err.Error(), "loses the journal") {
		t.Fatalf("R1 on a cluster: %v, want ErrR1OnCluster saying why", err)
	}
	_, err = node.Start(context.Background(), node.Config{DataDir: t.TempDir(), Roles: node.Roles{node.RoleProcessor},
		NATS: infra.ClientConfig{URLs: urls}, AllowR1: true, Logger: quiet})
	if !errors.Is(err, infra.ErrReplicasReduced) {
		t.Fatalf("R1 allowed, on streams of R3: %v, want ErrReplicasReduced", err)
	}
	ledgertest.AuditJetStream(t, api.node.JS, api.node.Names)
}

// A standalone server refuses replicas: a node asking for 3 there is
// told the server is not in a cluster.
func TestReplicasNeedACluster(t *testing.T) {
	srv := natstest.StartExternal(t)
	_, err := node.Start(context.Background(), node.Config{DataDir: t.TempDir(), Roles: node.Roles{node.RoleAPI}, Replicas: 3,
		NATS: infra.ClientConfig{URLs: []string{srv.URL}}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "not in a cluster") {
		t.Fatalf("R3 on a standalone server: %v", err)
	}
}
