package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/journalio"
)

// crashLoad bounds the crash test: clients, accounts, and how long load
// runs before the kill.
const (
	crashClients  = 16
	crashAccounts = 8
	crashLoadTime = 1500 * time.Millisecond
	crashRounds   = 2
)

// TestCrashUnderLoadLosesNothingAndDoublesNothing SIGKILLs a real ledger
// serve under load, restarts it, and checks the journal: every transfer that
// was answered 201 is there exactly once, no id is posted twice, the hash
// chain verifies, and each asset's balances sum to zero.
func TestCrashUnderLoadLosesNothingAndDoublesNothing(t *testing.T) {
	dir := t.TempDir()
	p := startLedger(t, dir)
	c := newClient(p.url)
	fundCrashAccounts(t, c)

	posted := map[string]uint64{} // id -> sequence answered with 201
	var mu sync.Mutex
	var seq atomic.Int64
	for round := 0; round < crashRounds; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < crashClients; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for ctx.Err() == nil {
					from, to := rng.IntN(crashAccounts), rng.IntN(crashAccounts-1)
					if to >= from {
						to++
					}
					id := fmt.Sprintf("r%d-%d", round, seq.Add(1))
					var out struct {
						Sequence uint64 `json:"sequence"`
					}
					status, err := c.do(ctx, http.MethodPost, "/v1/transfers", map[string]any{
						"id": id, "from": fmt.Sprintf("acc-%d", from), "to": fmt.Sprintf("acc-%d", to),
						"amount": fmt.Sprintf("%d.%02d", rng.IntN(3), 1+rng.IntN(99)),
					}, &out)
					if err == nil && status == http.StatusCreated {
						mu.Lock()
						posted[id] = out.Sequence
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(crashLoadTime)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = p.wait(t, 30*time.Second)
		cancel()
		wg.Wait()
		p = startLedger(t, dir)
		c = newClient(p.url)
	}
	if len(posted) == 0 {
		t.Fatal("no transfer was posted under load")
	}
	// Every 201 is readable after the restarts.
	for id, seq := range posted {
		var out struct {
			Status   string `json:"status"`
			Sequence uint64 `json:"sequence"`
		}
		status, err := c.do(context.Background(), http.MethodGet, "/v1/transfers/"+id, nil, &out)
		if err != nil || status != http.StatusOK || out.Status != "posted" || out.Sequence != seq {
			t.Fatalf("transfer %s answered 201 at %d; after restart: status %d %+v err %v", id, seq, status, out, err)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, p.stderr)
	}
	checkJournal(t, dir, posted)
	// The auditor's tool agrees: chain, sequences, balances and the read
	// model all hold after the load, the kills and the restarts.
	out, err := exec.Command(ledgerBinary(t), "audit", "--data-dir", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("ledger audit after the crashes: %v\n%s", err, out)
	}
}

// checkJournal opens the stopped ledger's store and verifies the journal.
func checkJournal(t *testing.T, dir string, posted map[string]uint64) {
	t.Helper()
	_, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	js := mustJetStream(t, nc)
	journal := infra.NewJournal(js, journalio.NamesFor("default"))
	// Rebuild verifies the hash chain, the gapless sequence and every
	// event against the invariants as it applies it.
	if _, _, _, err := commands.Rebuild(context.Background(), journal); err != nil {
		t.Fatalf("journal does not verify: %v", err)
	}
	seen := map[string]uint64{}
	balances := map[string]domain.Amount{} // account (world per asset) -> last balance
	for _, ev := range journaltest.ReadEvents(t, js, journalio.NamesFor("default")) {
		if ev.Type != domain.EventTransferPosted {
			continue
		}
		tr := ev.Transfer
		if first, dup := seen[tr.ID]; dup {
			t.Errorf("transfer %s posted twice, at %d and %d", tr.ID, first, ev.Seq)
		}
		seen[tr.ID] = ev.Seq
		for _, e := range tr.Entries {
			b, err := domain.ParseBalance(e.Balance, 2)
			if err != nil {
				t.Fatal(err)
			}
			balances[e.Account+"/"+tr.Asset] = b
		}
	}
	for id, seq := range posted {
		if got, ok := seen[id]; !ok || got != seq {
			t.Errorf("transfer %s answered 201 at sequence %d; journal has it at %d (present %v)", id, seq, got, ok)
		}
	}
	var sum domain.Amount
	for _, b := range balances {
		sum, _ = sum.Add(b)
	}
	if !sum.IsZero() {
		t.Errorf("USD balances sum to %s, want 0", sum.Format(2))
	}
	t.Logf("%d transfers answered 201 across %d crashes; %d posted in all", len(posted), crashRounds, len(seen))
}

func mustJetStream(t *testing.T, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// fundCrashAccounts defines USD and opens crashAccounts accounts acc-N,
// each funded with 100.00: what the load of the crash tests moves.
func fundCrashAccounts(t *testing.T, c *apiClient) {
	t.Helper()
	c.must(t, http.MethodPost, "/v1/assets", map[string]any{"code": "USD", "scale": 2}, http.StatusCreated)
	for i := 0; i < crashAccounts; i++ {
		id := fmt.Sprintf("acc-%d", i)
		c.must(t, http.MethodPost, "/v1/accounts", map[string]any{"id": id, "asset": "USD"}, http.StatusCreated)
		c.must(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "fund-" + id, "from": "world", "to": id, "amount": "100.00"}, http.StatusCreated)
	}
}
