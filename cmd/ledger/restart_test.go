package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/node"
)

// Bounds of the restart-under-load scenario: clients, how long they load
// the ledger before the kill, how many accepted ids are read back, and how
// long the restart and reading them back may take. The restart recovers
// JetStream's store after the kill and rebuilds the processor's state
// before HTTP is served (the listener is bound first, so requests wait in
// its backlog meanwhile); under -race on two loaded cores that once took
// more than 20 s, so the bound is a minute.
const (
	restartClients  = 8
	restartLoadTime = time.Second
	restartIDsMax   = 2_000
	restartReadWait = time.Minute
)

// TestKillUnderLoadEveryAcceptedIDReadsBack SIGKILLs a real ledger serve
// under synchronous and asynchronous load, restarts it, and reads back
// every id answered 201 or 202 from the moment HTTP answers, before the
// ledger is ready and while its read model is rebuilt: each reads as decided, or 503 for a moment (retried
// after Retry-After), never 404.
func TestKillUnderLoadEveryAcceptedIDReadsBack(t *testing.T) {
	dir := t.TempDir()
	p := startLedger(t, dir)
	c := newClient(p.url)
	fundCrashAccounts(t, c)

	var mu sync.Mutex
	accepted := map[string]int{} // id -> 201 or 202
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range restartClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(7, uint64(w)))
			for i := 0; ctx.Err() == nil; i++ {
				from, to := rng.IntN(crashAccounts), rng.IntN(crashAccounts-1)
				if to >= from {
					to++
				}
				id := fmt.Sprintf("k%d-%d", w, i)
				prefer := ""
				if i%2 == 1 {
					prefer = "respond-async"
				}
				status, _, err := request(ctx, c, http.MethodPost, "/v1/transfers", prefer, map[string]any{
					"id": id, "from": fmt.Sprintf("acc-%d", from), "to": fmt.Sprintf("acc-%d", to),
					"amount": fmt.Sprintf("0.%02d", 1+rng.IntN(99)),
				})
				if err == nil && (status == http.StatusCreated || status == http.StatusAccepted) {
					mu.Lock()
					if len(accepted) < restartIDsMax {
						accepted[id] = status
					}
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(restartLoadTime) // load, not an assertion
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t, 30*time.Second)
	cancel()
	wg.Wait()
	if len(accepted) == 0 {
		t.Fatal("nothing was accepted under load")
	}

	// The read model is lost too (operations.md: deleting it rebuilds it
	// from the journal), so that it is far behind while the ids are read.
	if err := os.RemoveAll(filepath.Join(dir, node.ReadModelDir)); err != nil {
		t.Fatal(err)
	}

	// Read back from the first moment HTTP answers, not from readiness.
	p = launch(t, dir)
	c = newClient(p.url)
	deadline := time.Now().Add(restartReadWait)
	for {
		status, _, err := request(context.Background(), c, http.MethodGet, "/healthz", "", nil)
		if err == nil && status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted ledger did not answer in time: %d %v\n%s", status, err, p.stderr)
		}
		time.Sleep(10 * time.Millisecond) // polling for the listener
	}
	counts := map[string]int{}
	for id, answered := range accepted {
		for {
			status, body, err := request(context.Background(), c, http.MethodGet, "/v1/transfers/"+id, "", nil)
			if err != nil {
				t.Fatalf("GET %s: %v", id, err)
			}
			if status == http.StatusServiceUnavailable && time.Now().Before(deadline) {
				counts["503 then retried"]++
				time.Sleep(20 * time.Millisecond) // Retry-After, shortened
				continue
			}
			var out struct{ Status string }
			_ = json.Unmarshal(body, &out)
			if status != http.StatusOK || (out.Status != "posted" && out.Status != "rejected") {
				t.Fatalf("%s answered %d before the kill; after the restart: %d %s", id, answered, status, body)
			}
			counts[fmt.Sprintf("%d then %s", answered, out.Status)]++
			break
		}
	}
	t.Logf("%d accepted ids read back after kill -9: %v", len(accepted), counts)
}

// request sends a JSON request, with a Prefer header when prefer is set,
// and returns the status and the body.
func request(ctx context.Context, c *apiClient, method, path, prefer string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	if prefer != "" {
		req.Header.Set("Prefer", prefer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}
