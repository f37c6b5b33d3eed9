package infra_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/journalio"
)

// Bounds of the test: the submitter gives a publish 10 s to be confirmed.
const (
	unconfirmedWait = 30 * time.Second
	pollInterval    = 20 * time.Millisecond
)

// TestSubmitterUnconfirmedPublishIsMaybeStored loses the PubAcks of
// command publishes that JetStream stored: a proxy between the
// submitter's connection and the server holds what the server sends.
// Both ways of storing a command, the group commit (Submit) and a message
// of its own (SubmitEnvelope), answer ErrMaybeStored, never ErrNotStored,
// while each command is in the commands stream, to be decided.
func TestSubmitterUnconfirmedPublishIsMaybeStored(t *testing.T) {
	t.Parallel()
	const user, password = "ledger", "s3cret-for-the-test"
	srv, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: t.TempDir(), ListenAddr: "127.0.0.1:-1", User: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	names := journalio.NamesFor("test")
	ctx, cancel := context.WithTimeout(context.Background(), unconfirmedWait)
	defer cancel()
	if err := infra.EnsureStreams(ctx, js, names); err != nil {
		t.Fatal(err)
	}

	proxy := natstest.StartProxy(t, srv.Addr().String())
	pnc, err := nats.Connect(proxy.URL(), nats.UserInfo(user, password), nats.NoReconnect())
	if err != nil {
		t.Fatalf("connect through the proxy: %v", err)
	}
	t.Cleanup(pnc.Close)
	pjs, err := jetstream.New(pnc)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := infra.NewSubmitter(pnc, pjs, names, infra.GroupCommit{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })

	if _, err := sub.SubmitEnvelope(ctx, []commands.Item{transferItem("t-open")}, false, false); err != nil {
		t.Fatalf("publish through the open proxy: %v", err)
	}

	proxy.Hold()
	errs := make(chan error, 2)
	go func() {
		_, err := sub.Submit(ctx, []commands.Item{transferItem("t-single")}, false)
		errs <- fmt.Errorf("Submit: %w", err)
	}()
	go func() {
		_, err := sub.SubmitEnvelope(ctx, []commands.Item{transferItem("t-own-1"), transferItem("t-own-2")}, false, false)
		errs <- fmt.Errorf("SubmitEnvelope: %w", err)
	}()

	// Stored while their acknowledgements are held.
	deadline := time.Now().Add(unconfirmedWait)
	for ids := storedTransferIDs(t, js, names); ids["t-single"] == 0 || ids["t-own-1"] == 0; ids = storedTransferIDs(t, js, names) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for both commands to reach the commands stream; it holds %v", unconfirmedWait, ids)
		}
		time.Sleep(pollInterval)
	}
	for range 2 {
		select {
		case err := <-errs:
			if !errors.Is(err, commands.ErrMaybeStored) || errors.Is(err, commands.ErrNotStored) {
				t.Errorf("%v; want ErrMaybeStored (the command is stored), not ErrNotStored", err)
			}
		case <-ctx.Done():
			t.Fatalf("a publish whose acknowledgement is held did not end in %v", unconfirmedWait)
		}
	}
	want := map[string]int{"t-open": 1, "t-single": 1, "t-own-1": 1, "t-own-2": 1}
	if got := storedTransferIDs(t, js, names); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("commands stream holds transfers %v, want each once: %v", got, want)
	}

	// Released, the held acknowledgements arrive late and are dropped;
	// the connection still works.
	proxy.Release()
	if _, err := sub.SubmitEnvelope(ctx, []commands.Item{transferItem("t-after")}, false, false); err != nil {
		t.Fatalf("publish after the release: %v", err)
	}
}

func transferItem(id string) commands.Item {
	return commands.Item{Transfer: &domain.Transfer{ID: id, From: "alice", To: "bob", Amount: "1.00"}}
}

// storedTransferIDs counts the transfer ids of the command messages in the
// commands stream.
func storedTransferIDs(t *testing.T, js jetstream.JetStream, names journalio.Names) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, names.CommandsStream)
	if err != nil {
		t.Fatalf("commands stream: %v", err)
	}
	st := stream.CachedInfo().State
	ids := map[string]int{}
	for seq := st.FirstSeq; st.Msgs > 0 && seq <= st.LastSeq; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("command %d: %v", seq, err)
		}
		env, err := commands.DecodeEnvelope(msg.Data)
		if err != nil {
			t.Fatalf("command %d: %v", seq, err)
		}
		for _, it := range env.Items {
			if it.Transfer != nil {
				ids[it.Transfer.ID]++
			}
		}
	}
	return ids
}
