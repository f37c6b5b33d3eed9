package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/node"
)

// e2eCommandsStream reads where the commands stream and the processor's
// acknowledgements stand.
func e2eCommandsStream(t *testing.T, js jetstream.JetStream, names journalio.Names) (jetstream.StreamInfo, uint64) {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, names.CommandsStream)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Consumer(ctx, names.ProcessorName)
	if err != nil {
		t.Fatal(err)
	}
	return *s.CachedInfo(), c.CachedInfo().AckFloor.Stream
}

// The commands stream keeps what it stores (limits retention): an
// acknowledgement removes nothing, and the decided prefix is purged in
// chunks, never past what the processor acknowledged. After a restart the
// ledger goes on deciding, and the journal answers every command.
func TestE2ECommandsStreamPurgesDecidedCommandsInChunks(t *testing.T) {
	t.Parallel()
	const every = 4
	l := e2eStartWith(t, node.Config{CommandsPurge: infra.CommandsPurge{EveryMsgs: every}})
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	const n = 40
	var answers []e2eTransfer
	for i := range n {
		answers = append(answers, l.post(t, tr(fmt.Sprintf("p-%d", i), domain.World, "alice", "1.00")))
	}
	e2eEventually(t, e2eOutcomeWait, "the decided prefix to be purged", func() (bool, string) {
		si, floor := e2eCommandsStream(t, l.node.JS, l.node.Names)
		st := si.State
		if si.Config.Retention != jetstream.LimitsPolicy {
			t.Fatalf("commands stream retention %v, want limits", si.Config.Retention)
		}
		if st.FirstSeq > floor+1 {
			t.Fatalf("purged past the acknowledged prefix: first %d, ack floor %d", st.FirstSeq, floor)
		}
		// Every command is decided: only the chunk not yet purged is left.
		return floor == st.LastSeq && st.Msgs <= 2*every, fmt.Sprintf("%+v, ack floor %d", st, floor)
	})
	si, _ := e2eCommandsStream(t, l.node.JS, l.node.Names)
	if si.State.FirstSeq <= 1 {
		t.Fatalf("nothing purged: %+v", si.State)
	}

	dir := l.dataDir
	l.stop()
	l = e2eStartWith(t, node.Config{DataDir: dir, CommandsPurge: infra.CommandsPurge{EveryMsgs: every}})
	l.post(t, tr("after-restart", domain.World, "alice", "1.00"))
	if got := l.account(t, "alice", "USD").Balance; got != fmt.Sprintf("%d.00", n+1) {
		t.Fatalf("alice's balance %s, want %d.00", got, n+1)
	}
	j := l.journal(t)
	for _, a := range answers {
		j.checkPosted(t, a)
	}
	var lastCmd uint64
	for _, ev := range j {
		if c := ev.Command.Seq; c > lastCmd+1 && lastCmd > 0 {
			t.Fatalf("commands %d to %d answered by no event", lastCmd+1, c-1)
		}
		lastCmd = max(lastCmd, ev.Command.Seq)
	}
}

// A data directory made by the previous version has a commands stream with
// interest retention. The ledger switches it to limits retention in place
// at the next start, and the commands it held undecided are decided.
func TestE2EInterestCommandsStreamIsMigrated(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.settle(t)
	dir := l.dataDir
	l.stop()

	// As the previous version left it: interest retention, with commands
	// stored and not yet decided.
	_, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	names := journalio.NamesFor("default")
	cfg := infra.CommandsConfig(names, 1)
	cfg.Retention = jetstream.InterestPolicy
	if _, err := js.UpdateStream(context.Background(), cfg); err != nil {
		t.Fatalf("make the stream as the previous version did: %v", err)
	}
	stop()
	e2eStoreUndecided(t, dir, e2eMints("m", "alice", 3))

	l = e2eStartWith(t, node.Config{DataDir: dir})
	si, _ := e2eCommandsStream(t, l.node.JS, l.node.Names)
	if si.Config.Retention != jetstream.LimitsPolicy {
		t.Fatalf("retention after the start: %v, want limits", si.Config.Retention)
	}
	for _, id := range []string{"m-0", "m-1", "m-2"} {
		if p := l.awaitOutcome(t, "/v1/transfers/"+id); p.Status != "posted" {
			t.Fatalf("%s stored before the migration: %+v", id, p)
		}
	}
	l.post(t, tr("after-migration", domain.World, "alice", "1.00"))
	if r := l.do(t, http.MethodGet, "/v1/transfers/after-migration", nil); r.Status != http.StatusOK {
		t.Fatalf("after-migration: %s", r)
	}
}
