package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/journalio"
)

// TestServeRefusesLostCommands deletes an accepted, undecided command from
// the commands stream of a stopped ledger: `ledger serve` refuses to start
// and names it, `--skip-lost-commands` journals it as lost, every other
// command is decided, and `ledger audit` holds.
func TestServeRefusesLostCommands(t *testing.T) {
	dir := t.TempDir()
	p := startLedger(t, dir)
	c := newClient(p.url)
	c.must(t, http.MethodPost, "/v1/assets", map[string]any{"code": "USD", "scale": 2}, http.StatusCreated)
	c.must(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "alice", "asset": "USD"}, http.StatusCreated)
	c.must(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "bob", "asset": "USD"}, http.StatusCreated)
	c.must(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "fund", "from": "world", "to": "alice", "amount": "10.00"}, http.StatusCreated)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// Three commands stored while the ledger is down, as accepted ones
	// are; then the first of them deleted by hand.
	lost := storeAndDelete(t, dir, 3)

	p = launch(t, dir)
	if err := p.wait(t, 60*time.Second); err == nil {
		t.Fatalf("serve started past a lost command\n%s", p.stderr)
	}
	if want := fmt.Sprintf("commands %d to %d were accepted but are no longer in the stream", lost, lost); !strings.Contains(p.stderr.String(), want) {
		t.Fatalf("serve's error does not say %q:\n%s", want, p.stderr)
	}

	p = startLedger(t, dir, "--skip-lost-commands", fmt.Sprint(lost))
	c = newClient(p.url)
	var tr struct {
		Status string `json:"status"`
	}
	for _, id := range []string{"s-1", "s-2"} {
		deadline := time.Now().Add(20 * time.Second)
		for {
			status, err := c.do(context.Background(), http.MethodGet, "/v1/transfers/"+id, nil, &tr)
			if err == nil && status == http.StatusOK && tr.Status == "posted" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d %v %+v", id, status, err, tr)
			}
			time.Sleep(20 * time.Millisecond) // polling for the decision
		}
	}
	if status, err := c.do(context.Background(), http.MethodGet, "/v1/transfers/s-0", nil, nil); err != nil || status != http.StatusNotFound {
		t.Fatalf("the lost transfer s-0: %d %v, want 404", status, err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	out := mustRun(t, "audit", "--data-dir", dir)
	if !strings.Contains(out, "commands         ok") {
		t.Fatalf("audit:\n%s", out)
	}
}

// storeAndDelete stores n transfers s-0.. as command messages of their own
// in a stopped ledger's data directory, deletes the first, and returns its
// sequence.
func storeAndDelete(t *testing.T, dir string, n int) uint64 {
	t.Helper()
	_, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	js := mustJetStream(t, nc)
	names := journalio.NamesFor("default")
	sub, err := infra.NewSubmitter(nc, js, names, infra.GroupCommit{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range n {
		item := commands.Item{Transfer: &domain.Transfer{ID: fmt.Sprintf("s-%d", i), From: "alice", To: "bob", Amount: "1.00"}}
		if _, err := sub.SubmitEnvelope(ctx, []commands.Item{item}, false, false); err != nil {
			t.Fatal(err)
		}
	}
	stream, err := js.Stream(ctx, names.CommandsStream)
	if err != nil {
		t.Fatal(err)
	}
	first := stream.CachedInfo().State.FirstSeq
	if err := stream.DeleteMsg(ctx, first); err != nil {
		t.Fatal(err)
	}
	return first
}
