package commands_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
)

// hotIDs is the tiny hot set of the archive tests: a thousand transfers
// go through ten evictions and more.
const hotIDs = 100

// openArchive opens the posted-id archive of the data directory dir,
// closed at the end of the test unless closed before.
func openArchive(t *testing.T, dir string) *infra.IDArchive {
	t.Helper()
	a, err := infra.OpenIDArchive(filepath.Join(dir, infra.IDArchiveDir))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// archiveLedger is a processor with snapshots and a posted-id archive on
// the data directory dir.
type archiveLedger struct {
	*ledger
	srv     *natstest.Server
	archive *infra.IDArchive
	store   *infra.SnapshotStore
	logs    *natstest.Buffer
}

func startArchived(t *testing.T, dir string) *archiveLedger {
	t.Helper()
	srv := natstest.Start(t, dir)
	a := &archiveLedger{srv: srv, archive: openArchive(t, dir), store: snapshotStore(t, srv)}
	var log = quiet
	log, a.logs = newLog()
	a.ledger = startWith(t, srv, nil, commands.Config{Logger: log, Snapshots: a.store, SnapshotEvery: 300,
		Archive: a.archive, HotIDs: hotIDs})
	t.Cleanup(a.close)
	return a
}

func (a *archiveLedger) close() {
	if a.archive == nil {
		return
	}
	a.stop()
	a.srv.Stop()
	_ = a.archive.Close()
	a.archive = nil
}

// mintItems are ten mints of 0.01 to alice, ids prefix-(from..from+9).
func mintItems(prefix string, from int) []commands.Item {
	items := make([]commands.Item, 10)
	for i := range items {
		items[i] = transfer(fmt.Sprintf("%s-%d", prefix, from+i), domain.World, "alice", "0.01")
	}
	return items
}

// checkRetries retries old ids: the same bodies replay at their original
// sequences, a changed body is a conflict, and nothing is posted twice.
func checkRetries(t *testing.T, l *archiveLedger, posted map[string]uint64, when string) {
	t.Helper()
	for _, id := range []string{"t-0", "t-1", "t-333", "t-998"} {
		r := l.submit(t, transfer(id, domain.World, "alice", "0.01"))[0]
		if r.Outcome != commands.OutcomeReplayed || r.Seq != posted[id] {
			t.Fatalf("%s: retry of %s: %+v, want replayed at %d", when, id, r, posted[id])
		}
	}
	r := l.submit(t, transfer("t-2", domain.World, "alice", "0.02"))[0]
	if r.Outcome != commands.OutcomeRejected || r.Code != domain.CodeIdempotencyConflict {
		t.Fatalf("%s: t-2 with another amount: %+v, want idempotency_conflict", when, r)
	}
}

// TestArchivedIDsSurviveRestarts posts a thousand transfers through a
// processor that keeps 100 ids in memory, then restarts it from a
// snapshot (retries of old ids replay exactly), then again without the
// archive directory (the snapshot is refused and the state and the
// archive are rebuilt from the journal; retries still exact), then runs
// a new ledger's journal with the old archive (the archive does not match
// the journal and is reset: an id of the old ledger posts as new).
func TestArchivedIDsSurviveRestarts(t *testing.T) {
	dir := t.TempDir()
	l := startArchived(t, dir)
	setup(t, l.ledger)
	posted := map[string]uint64{}
	for i := 0; i < 1000; i += 10 {
		for j, r := range l.submit(t, mintItems("t", i)...) {
			if r.Outcome != commands.OutcomePosted {
				t.Fatalf("t-%d: %+v", i+j, r)
			}
			posted[fmt.Sprintf("t-%d", i+j)] = r.Seq
		}
	}
	waitFor(t, func() bool {
		infos, _ := l.store.List(context.Background())
		return len(infos) > 0 && infos[0].Seq >= 900
	}, "a snapshot past sequence 900")
	infos, err := l.store.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	data, err := l.store.Load(context.Background(), infos[0].Seq, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := commands.ReadSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	// The hot set may pass its capacity by the ids decided while an
	// eviction is being written; never by most of the history.
	if snap.State.HotIDs() > 4*hotIDs || snap.State.ArchivedThrough() < 500 {
		t.Fatalf("snapshot at %d: %d ids in memory, archived through %d; want at most %d, through 500 or more",
			snap.Seq, snap.State.HotIDs(), snap.State.ArchivedThrough(), 4*hotIDs)
	}
	checkRetries(t, l, posted, "running")
	l.close()

	l = startArchived(t, dir)
	checkRetries(t, l, posted, "restarted")
	if logs := l.logs.String(); !strings.Contains(logs, "state restored from a snapshot") {
		t.Fatalf("the restart did not use a snapshot:\n%s", logs)
	}
	l.close()

	if err := os.RemoveAll(filepath.Join(dir, infra.IDArchiveDir)); err != nil {
		t.Fatal(err)
	}
	l = startArchived(t, dir)
	checkRetries(t, l, posted, "restarted without the archive")
	logs := l.logs.String()
	if !strings.Contains(logs, "skipping snapshot") || !strings.Contains(logs, "the archive holds them only through 0") ||
		strings.Contains(logs, "state restored from a snapshot") {
		t.Fatalf("the snapshot was not refused for want of the archive:\n%s", logs)
	}
	if r := l.submit(t, transfer("t-new", domain.World, "alice", "0.01"))[0]; r.Outcome != commands.OutcomePosted {
		t.Fatalf("a new id after the rebuild: %+v", r)
	}
	l.close()

	// A new ledger (an empty journal) with the old archive: the archive's
	// mark is beyond the journal's end, so it is reset. Without the reset,
	// t-5 would be found there once this ledger archives ids too.
	other := t.TempDir()
	if err := os.Rename(filepath.Join(dir, infra.IDArchiveDir), filepath.Join(other, infra.IDArchiveDir)); err != nil {
		t.Fatal(err)
	}
	l = startArchived(t, other)
	setup(t, l.ledger)
	for i := 0; i < 300; i += 10 {
		l.submit(t, mintItems("n", i)...)
	}
	if r := l.submit(t, transfer("t-5", domain.World, "alice", "0.01"))[0]; r.Outcome != commands.OutcomePosted {
		t.Fatalf("t-5 in a new ledger: %+v, want posted", r)
	}
	if logs := l.logs.String(); !strings.Contains(logs, "does not match the journal") {
		t.Fatalf("the old archive was not reset:\n%s", logs)
	}
}
