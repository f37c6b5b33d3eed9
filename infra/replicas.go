package infra

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Replicas: how many servers of a cluster keep each stream the ledger
// creates (ADR 0025). The node's configuration names the count; every
// stream, bucket and object store takes it.

// MaxReplicas is JetStream's own limit on a stream's replicas.
const MaxReplicas = 5

// ErrR1OnCluster is returned at start-up when the NATS server is part of
// a cluster and the configured replicas are 1: each stream would live on
// one server, and losing that server would lose the journal.
var ErrR1OnCluster = errors.New("one replica on a NATS cluster")

// ErrReplicasReduced is returned when a stream exists with more replicas
// than configured: the ledger does not remove copies of its data on its
// own; an operator who means to does it by hand.
var ErrReplicasReduced = errors.New("fewer replicas than the stream has")

// CheckCluster refuses replicas that do not fit the server nc is
// connected to: 1 on a cluster unless allowR1 (the operator's word that
// losing a server may lose data, for a test cluster), more than 1 on a
// server that is not in a cluster (JetStream would refuse every stream).
func CheckCluster(nc *nats.Conn, replicas int, allowR1 bool) error {
	cluster := nc.ConnectedClusterName()
	switch {
	case replicas < 1 || replicas > MaxReplicas:
		return fmt.Errorf("replicas %d: use 1 to %d", replicas, MaxReplicas)
	case cluster != "" && replicas == 1 && !allowR1:
		return fmt.Errorf("%w: server %s is in cluster %q, and the ledger's streams would have 1 replica each: "+
			"losing the one server that holds the journal loses the journal; start with --replicas 3 "+
			"(or --allow-r1 for a cluster whose data may be lost)", ErrR1OnCluster, nc.ConnectedServerName(), cluster)
	case cluster == "" && replicas > 1:
		return fmt.Errorf("replicas %d: server %s is not in a cluster, and a stream has at most 1 replica there",
			replicas, nc.ConnectedServerName())
	}
	return nil
}

// replicasFor is the replica count to give stream: want when set;
// otherwise (0: a tool that opens what the node created) the count the
// existing stream has, or 1 for a new one. It returns ErrReplicasReduced
// when want is below the existing stream's count.
func replicasFor(ctx context.Context, js jetstream.JetStream, stream string, want int) (int, error) {
	s, err := js.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return max(want, 1), nil
	}
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	have := max(s.CachedInfo().Config.Replicas, 1)
	switch {
	case want == 0:
		return have, nil
	case want < have:
		return 0, fmt.Errorf("%w: stream %s has %d, the configuration %d; refusing to remove copies: "+
			"start with --replicas %d, or reduce them by hand (nats stream edit %s --replicas %d)",
			ErrReplicasReduced, stream, have, want, have, stream, want)
	}
	return want, nil
}

// KVStream and ObjectStream name the streams behind a key-value bucket
// and an object store.
func KVStream(bucket string) string     { return "KV_" + bucket }
func ObjectStream(bucket string) string { return "OBJ_" + bucket }

// KVReplicas is replicasFor for a key-value bucket, for the packages
// beside infra that create one.
func KVReplicas(ctx context.Context, js jetstream.JetStream, bucket string, want int) (int, error) {
	return replicasFor(ctx, js, KVStream(bucket), want)
}
