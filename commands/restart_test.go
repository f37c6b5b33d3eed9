package commands_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
)

// startArchivedWith is startArchived with the snapshot cadence's two
// triggers given.
func startArchivedWith(t *testing.T, dir string, every uint64, interval time.Duration) *archiveLedger {
	t.Helper()
	srv := natstest.Start(t, dir)
	a := &archiveLedger{srv: srv, archive: openArchive(t, dir), store: snapshotStore(t, srv)}
	log, logs := newLog()
	a.logs = logs
	a.ledger = startWith(t, srv, nil, commands.Config{Logger: log, Snapshots: a.store, SnapshotEvery: every,
		SnapshotInterval: interval, Archive: a.archive, HotIDs: hotIDs})
	t.Cleanup(a.close)
	return a
}

// TestRestartEvictsAfterTheReplay restarts a processor whose snapshot's
// hot set plus the journal's tail after it is over the hot set's capacity
// but under one and a half times it: the replay keeps every id in memory
// (no eviction on the start-up's path), the processor then evicts while
// deciding until the hot set is back under its capacity, and retries of
// ids archived before, replayed in the tail and posted after the restart
// are all answered as replays at their original sequences.
func TestRestartEvictsAfterTheReplay(t *testing.T) {
	dir := t.TempDir()
	// A snapshot at the journal's end, after many evictions.
	l := startArchivedWith(t, dir, 1<<40, 20*time.Millisecond)
	setup(t, l.ledger)
	posted := map[string]uint64{}
	post := func(prefix string, n int) {
		t.Helper()
		for i := 0; i < n; i += 10 {
			for j, r := range l.submit(t, mintItems(prefix, i)[:min(10, n-i)]...) {
				if r.Outcome != commands.OutcomePosted {
					t.Fatalf("%s-%d: %+v", prefix, i+j, r)
				}
				posted[fmt.Sprintf("%s-%d", prefix, i+j)] = r.Seq
			}
		}
	}
	post("t", 600)
	// The processor completes an eviction between batches, once its
	// archive write is durable, and takes a snapshot only when the
	// journal has grown: on a loaded machine the write outlasts the last
	// batches. Small batches, each waited for in a snapshot, until one
	// shows the hot set evicted down (bounded).
	for i := 0; ; i++ {
		end := l.proc.Seq()
		waitFor(t, func() bool {
			infos, _ := l.store.List(context.Background())
			return len(infos) > 0 && infos[0].Seq == end
		}, fmt.Sprintf("a snapshot at the journal's end, %d", end))
		if s := loadLatest(t, l.store); s.State.ArchivedThrough() > 0 && s.State.HotIDs() <= hotIDs*5/4 {
			break
		}
		if i == 50 {
			t.Fatalf("no snapshot with the hot set evicted down after %d more batches", i)
		}
		post(fmt.Sprintf("s%d", i), 10)
	}
	l.close()
	snap := latestSnapshot(t, dir)
	if snap.State.ArchivedThrough() == 0 || snap.State.HotIDs() > hotIDs*5/4 {
		t.Fatalf("snapshot at %d: %d ids in memory, archived through %d; want evictions before it",
			snap.Seq, snap.State.HotIDs(), snap.State.ArchivedThrough())
	}
	// A tail that takes the snapshot's hot set to 1.3 times the capacity.
	tail := hotIDs*13/10 - snap.State.HotIDs()
	l = startArchivedWith(t, dir, 1<<40, time.Hour)
	post("u", tail)
	l.close()

	l = startArchivedWith(t, dir, 1<<40, time.Hour)
	waitFor(t, l.proc.Ready, "the restarted processor to be ready")
	if !strings.Contains(l.logs.String(), fmt.Sprintf(`msg="state restored from a snapshot" snapshot=%d `, snap.Seq)) {
		t.Fatalf("the restart did not use the snapshot at %d:\n%s", snap.Seq, l.logs)
	}
	if got, want := l.proc.HotIDs(), snap.State.HotIDs()+tail; got != want {
		t.Fatalf("after the replay, %d ids in memory; want the snapshot's %d and the tail's %d (no eviction during the replay)",
			got, snap.State.HotIDs(), tail)
	}
	for i := 0; l.proc.HotIDs() > hotIDs; i++ {
		if i == 100 {
			t.Fatalf("the hot set is still %d ids after %d transfers, over its capacity %d", l.proc.HotIDs(), i, hotIDs)
		}
		post(fmt.Sprintf("v%d", i), 1)
	}
	for _, id := range []string{"t-0", "t-599", "u-0", fmt.Sprintf("u-%d", tail-1), "v0-0"} {
		r := l.submit(t, transfer(id, domain.World, "alice", "0.01"))[0]
		if r.Outcome != commands.OutcomeReplayed || r.Seq != posted[id] {
			t.Fatalf("retry of %s: %+v, want replayed at %d", id, r, posted[id])
		}
	}
}

// latestSnapshot decodes the newest snapshot of the data directory dir,
// whose server is stopped.
func latestSnapshot(t *testing.T, dir string) *commands.Snapshot {
	t.Helper()
	srv := natstest.Start(t, dir)
	defer srv.Stop()
	return loadLatest(t, snapshotStore(t, srv))
}

// loadLatest loads the latest snapshot of store.
func loadLatest(t *testing.T, store *infra.SnapshotStore) *commands.Snapshot {
	t.Helper()
	infos, err := store.List(context.Background())
	if err != nil || len(infos) == 0 {
		t.Fatalf("snapshots: %v, %v", infos, err)
	}
	data, err := store.Load(context.Background(), infos[0].Seq, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := commands.ReadSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}
