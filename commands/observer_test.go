package commands_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/natstest"
)

// recordingObserver keeps what the processor told it.
type recordingObserver struct {
	mu        sync.Mutex
	transfers map[string]int // outcome/code
	messages  int
	events    int
	snapshots int
}

func (o *recordingObserver) Transfer(outcome commands.Outcome, code domain.Code) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.transfers[string(outcome)+"/"+string(code)]++
}

func (o *recordingObserver) Batch(messages, events int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.messages += messages
	o.events += events
}

func (o *recordingObserver) Snapshot(time.Duration, time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.snapshots++
}

// TestProcessorObserver checks that the processor tells Config.Observer
// of each transfer decided (once, with its outcome and reject code), of
// every message and event of its batches, and of each snapshot saved.
func TestProcessorObserver(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	obs := &recordingObserver{transfers: map[string]int{}}
	store := snapshotStore(t, srv)
	l := startWith(t, srv, nil, commands.Config{Logger: quiet, Snapshots: store, SnapshotInterval: 300 * time.Millisecond, Observer: obs})
	setup(t, l) // one message: an asset, two accounts, a mint
	l.submit(t, transfer("o-1", "alice", "bob", "1.00"))
	l.submit(t, transfer("o-2", "alice", "bob", "100.00"))
	l.submit(t, transfer("o-1", "alice", "bob", "1.00"))
	waitFor(t, func() bool {
		infos, _ := store.List(context.Background())
		return len(infos) == 1
	}, "a snapshot")
	waitFor(t, func() bool {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return obs.snapshots == 1
	}, "the snapshot observed")
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := map[string]int{"posted/": 2, "rejected/insufficient_funds": 1, "replayed/": 1}
	if len(obs.transfers) != len(want) {
		t.Errorf("transfers %v, want %v", obs.transfers, want)
	}
	for k, n := range want {
		if obs.transfers[k] != n {
			t.Errorf("transfers %v, want %v", obs.transfers, want)
		}
	}
	// Four messages; events: four of the setup, a posting, a rejection,
	// and the replay's CommandSkipped (unchanged).
	if obs.messages != 4 || obs.events != 7 {
		t.Errorf("batches of %d messages and %d events, want 4 and 7", obs.messages, obs.events)
	}
}
