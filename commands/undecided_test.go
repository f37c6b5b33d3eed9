package commands_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
)

// Items stored without waiting count as undecided until the processor has
// decided (and journaled) the messages holding them; items someone waits
// for never count.
func TestUndecidedFollowsTheProcessor(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	async, err := infra.NewSubmitter(srv.NC, srv.JS, srv.Names, infra.GroupCommit{})
	if err != nil {
		t.Fatal(err)
	}
	defer async.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := async.Submit(ctx, []commands.Item{transfer("a-1", "alice", "bob", "1.00")}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := async.SubmitEnvelope(ctx, []commands.Item{transfer("a-2", "alice", "bob", "1.00"), transfer("a-3", "alice", "bob", "1.00")}, false, false); err != nil {
		t.Fatal(err)
	}
	if n := async.Undecided(0); n != 3 {
		t.Fatalf("undecided before any processor: %d, want 3", n)
	}

	l := start(t, srv, nil)
	setup(t, l) // waits for its own items; they never count
	deadline := time.Now().Add(10 * time.Second)
	for async.Undecided(l.proc.Decided()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still %d undecided with the processor at command %d", async.Undecided(l.proc.Decided()), l.proc.Decided())
		}
		time.Sleep(5 * time.Millisecond)
	}
	seen := map[string]bool{}
	for _, ev := range journalEvents(t, srv) {
		if ev.Rejection != nil {
			seen[ev.Rejection.ID] = true
		}
		if ev.Transfer != nil {
			seen[ev.Transfer.ID] = true
		}
	}
	for _, id := range []string{"a-1", "a-2", "a-3"} {
		if !seen[id] {
			t.Errorf("%s is counted decided but not in the journal", id)
		}
	}
}
