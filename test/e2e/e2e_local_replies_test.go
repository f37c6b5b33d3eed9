package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
)

// The processor answers the API of its own process in memory: a
// synchronous transfer's reply never crosses the NATS server. Another API
// instance on the same NATS (a second node's) still gets its replies over
// its outcome subject.
func TestE2ELocalRepliesSkipNATS(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")

	seen := make(chan *nats.Msg, 64)
	watch, err := l.node.NC.Subscribe(l.node.Names.OutcomeSubject("*"), func(m *nats.Msg) { seen <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = watch.Unsubscribe() }()
	if err := l.node.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"local-1", "local-2", "local-3"} {
		l.post(t, tr(id, domain.World, "alice", "1.00"))
	}

	// Another API instance: its own submitter, waiting for its answer.
	other, err := infra.NewSubmitter(l.node.NC, l.node.JS, l.node.Names, infra.GroupCommit{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx, cancel := context.WithTimeout(context.Background(), e2eClientWait)
	defer cancel()
	rs, err := other.Submit(ctx, []commands.Item{{Actor: &domain.Actor{Subject: "admin", Admin: true},
		Transfer: &domain.Transfer{ID: "remote-1", From: domain.World, To: "alice", Amount: "1.00"}}}, true)
	if err != nil || len(rs) != 1 || rs[0].Outcome != commands.OutcomePosted {
		t.Fatalf("the other instance's transfer: %+v, %v", rs, err)
	}
	// The processor publishes its replies in order on one connection, and
	// one subscription sees them in that order: every reply to the local
	// transfers that crossed the server would be seen before the remote
	// one.
	before := 0
	for {
		select {
		case m := <-seen:
			r, err := commands.DecodeReply(m.Data)
			if err == nil && len(r.Results) == 1 && r.Results[0].Event != nil && r.Results[0].Event.Transfer != nil &&
				r.Results[0].Event.Transfer.ID == "remote-1" {
				if before != 0 {
					t.Fatalf("%d replies to this process's transfers crossed NATS", before)
				}
				return
			}
			before++
		case <-time.After(e2eClientWait):
			t.Fatalf("the other instance's reply never crossed NATS (%d others seen)", before)
		}
	}
}
