package node_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/internal/ledgertest"
)

// probeWait bounds the wait for /readyz to notice a stopped part.
const probeWait = 10 * time.Second

// probe is one answer of /readyz or /healthz.
type probe struct {
	status int
	body   string
}

func get(url string) (probe, error) {
	resp, err := http.Get(url)
	if err != nil {
		return probe{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return probe{resp.StatusCode, string(body)}, err
}

// waitNotReady polls /readyz until it answers 503 (at most probeWait) and
// returns that answer's problem detail after checking its code.
func waitNotReady(t *testing.T, l *ledgertest.Ledger) string {
	t.Helper()
	deadline := time.Now().Add(probeWait)
	for {
		p, err := get(l.NativeURL + "/readyz")
		if err == nil && p.status == http.StatusServiceUnavailable {
			var pb struct{ Code, Detail string }
			if err := json.Unmarshal([]byte(p.body), &pb); err != nil || pb.Code != "not_ready" {
				t.Fatalf("/readyz 503 body %s, want a not_ready problem", p.body)
			}
			return pb.Detail
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still answers %d %s (%v) after %s", p.status, p.body, err, probeWait)
		}
		time.Sleep(10 * time.Millisecond) // polling, bounded by probeWait
	}
}

// checkAlive checks that /healthz, liveness, still answers 200.
func checkAlive(t *testing.T, l *ledgertest.Ledger) {
	t.Helper()
	if p, err := get(l.NativeURL + "/healthz"); err != nil || p.status != http.StatusOK {
		t.Errorf("/healthz: %d %s %v, want 200", p.status, p.body, err)
	}
}

// Readiness means the node can serve: under a steady stream of transfers,
// with the read model a few events behind the journal at any instant,
// every probe answers 200.
func TestReadyUnderLoad(t *testing.T) {
	l := ledgertest.Start(t)
	l.Must(t, http.StatusCreated, http.MethodPost, "/v1/assets", map[string]any{"code": "USD", "scale": 2})
	for _, id := range []string{"alice", "bob"} {
		l.Must(t, http.StatusCreated, http.MethodPost, "/v1/accounts", map[string]any{"id": id, "asset": "USD"})
	}
	l.Mint(t, "alice", "USD", "1000.00")

	// workers post transfersEach transfers each, one after another: the
	// steady stream (bounded in count, not in time).
	const workers, transfersEach = 4, 150
	var wg sync.WaitGroup
	failures := make(chan string, workers*transfersEach)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range transfersEach {
				body := fmt.Sprintf(`{"id":"load-%d-%d","from":"alice","to":"bob","amount":"0.01"}`, w, i)
				req, _ := http.NewRequest(http.MethodPost, l.NativeURL+"/v1/transfers", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+ledgertest.AdminToken)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					failures <- err.Error()
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					failures <- fmt.Sprintf("transfer %d-%d: %d", w, i, resp.StatusCode)
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	polls := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		p, err := get(l.NativeURL + "/readyz")
		if err != nil || p.status != http.StatusOK {
			t.Errorf("/readyz under load: %d %s %v, want 200", p.status, p.body, err)
		}
		polls++
	}
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	if polls < 2 {
		t.Fatalf("only %d probes while the transfers ran", polls)
	}
	t.Logf("%d probes under a stream of %d transfers, all 200", polls, workers*transfersEach)
}

// A node whose processor has stopped cannot decide a write: /readyz
// answers 503 not_ready saying so, while /healthz stays 200.
func TestNotReadyWithoutProcessor(t *testing.T) {
	l := ledgertest.Start(t)
	l.Node.StopProcessor()
	// While it stops it first reads as not ready for deciding; once it
	// has stopped, the detail names it.
	deadline := time.Now().Add(probeWait)
	for d := waitNotReady(t, l); !strings.Contains(d, "processor is not running"); d = waitNotReady(t, l) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz detail %q after %s, want the processor named", d, probeWait)
		}
		time.Sleep(10 * time.Millisecond) // polling, bounded by probeWait
	}
	checkAlive(t, l)
}

// A node that has lost NATS, where its journal lives, cannot serve:
// /readyz answers 503 not_ready saying so, while /healthz stays 200.
func TestNotReadyWithoutJournal(t *testing.T) {
	l := ledgertest.Start(t)
	l.Node.NC.Close()
	if d := waitNotReady(t, l); !strings.Contains(d, "nats is not connected") {
		t.Errorf("/readyz detail %q, want NATS named", d)
	}
	checkAlive(t, l)
}
