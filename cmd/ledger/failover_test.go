package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/internal/ledgertest"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/journalio"
)

// Bounds of the failover test: its clients, and the transfers posted
// before each fault and after it before the next.
const (
	failoverClients  = 3
	failoverAccounts = 4
	failoverSteady   = 10
	failoverWaitMax  = 60 * time.Second
)

// TestProcessorFailoverProcesses runs real `ledger serve` processes on a
// three-server NATS cluster: two API nodes and two processor nodes, under
// a steady load of transfers from a few clients, and injects the faults
// where a signal is the point: SIGSTOP the active processor past its
// lease (the standby takes over), SIGCONT it (it is fenced or finds its
// lease gone, and stands by), SIGKILL the new active processor (the old
// one takes over), SIGKILL an API node mid-request (its clients go to the
// other one). After them, every transfer answered 201 is in the journal
// exactly once and the audit passes. The time from each fault to the
// first 201 after it is logged (docs/BENCHMARKS.md, "Failover").
func TestProcessorFailoverProcesses(t *testing.T) {
	cluster := natstest.StartCluster(t, 3)
	urls := strings.Join(cluster.URLs(), ",")
	node := func(role, id string) *proc {
		args := []string{"--role", role, "--nats-url", urls, "--replicas", "3"}
		if id != "" {
			args = append(args, "--processor-id", id)
		}
		return startLedger(t, t.TempDir(), args...)
	}
	p1 := node("processor", "p1")
	waitActive(t, p1, true)
	p2 := node("processor", "p2")
	apis := []*proc{node("api", ""), node("api", "")}

	c := newClient(apis[0].url)
	// The setup is stored, then decided in order: an answer of 202 (the
	// decision outlasted the sync timeout, as it can on a loaded machine)
	// is waited out by reading the last mint back as posted, which the
	// processor decides after every command before it.
	c.mustAccept(t, "/v1/assets", map[string]any{"code": "USD", "scale": 2})
	for i := range failoverAccounts {
		acc := fmt.Sprintf("acc-%d", i)
		c.mustAccept(t, "/v1/accounts", map[string]any{"id": acc, "asset": "USD"})
		c.mustAccept(t, "/v1/transfers", map[string]any{"id": "mint-" + acc, "from": "world", "to": acc, "amount": "1000.00", "asset": "USD"})
	}
	for i := range failoverAccounts {
		c.waitTransfer(t, fmt.Sprintf("mint-acc-%d", i), "posted", failoverWaitMax)
	}
	l := startHTTPLoad(apis)
	defer l.stop()
	l.waitPosted(t, time.Time{}, failoverSteady)

	at := time.Now()
	sendSignal(t, p1, syscall.SIGSTOP)
	waitActive(t, p2, true)
	t.Logf("SIGSTOP of the active processor: first 201 after it %v", l.waitPosted(t, at, failoverSteady).Round(time.Millisecond))

	sendSignal(t, p1, syscall.SIGCONT)
	waitActive(t, p1, false)
	at = time.Now()
	l.waitPosted(t, at, failoverSteady)
	if !isActive(t, p2) {
		t.Fatal("p2 lost the lease when p1 woke")
	}

	at = time.Now()
	sendSignal(t, p2, syscall.SIGKILL)
	waitActive(t, p1, true)
	t.Logf("SIGKILL of the active processor: first 201 after it %v", l.waitPosted(t, at, failoverSteady).Round(time.Millisecond))

	at = time.Now()
	sendSignal(t, apis[0], syscall.SIGKILL)
	l.failOver(0, 1)
	t.Logf("SIGKILL of an API node: first 201 after it %v", l.waitPosted(t, at, failoverSteady).Round(time.Millisecond))

	posted := l.stop()
	nc, err := nats.Connect(urls)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	names := journalio.NamesFor("default")
	waitDecided(t, js, names)
	seen := map[string]int{}
	for _, ev := range journaltest.ReadEvents(t, js, names) {
		if ev.Transfer != nil {
			seen[ev.Transfer.ID]++
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("transfer %s posted %d times", id, n)
		}
	}
	for _, id := range posted {
		if seen[id] != 1 {
			t.Errorf("transfer %s answered 201, in the journal %d times", id, seen[id])
		}
	}
	ledgertest.AuditJetStream(t, js, names)
}

// mustAccept posts body to path and fails the test unless it is decided
// (201) or stored to be decided (202).
func (c *apiClient) mustAccept(t *testing.T, path string, body any) {
	t.Helper()
	got, err := c.do(context.Background(), http.MethodPost, path, body, nil)
	if err != nil || (got != http.StatusCreated && got != http.StatusAccepted) {
		t.Fatalf("POST %s: status %d, err %v; want 201 or 202", path, got, err)
	}
}

// waitTransfer reads transfer id back until it is decided (not
// "pending", nor 503 for a moment), at most for max, and fails the test
// unless its status is then want.
func (c *apiClient) waitTransfer(t *testing.T, id, want string, max time.Duration) {
	t.Helper()
	deadline := time.Now().Add(max)
	for {
		var out struct{ Status string }
		got, err := c.do(context.Background(), http.MethodGet, "/v1/transfers/"+id, nil, &out)
		switch {
		case err == nil && got == http.StatusOK && out.Status != "" && out.Status != "pending":
			if out.Status != want {
				t.Fatalf("transfer %s is %s, want %s", id, out.Status, want)
			}
			return
		case time.Now().After(deadline):
			t.Fatalf("transfer %s not decided in %s: status %d, err %v", id, max, got, err)
		}
		time.Sleep(50 * time.Millisecond) // polling for the processor's decision
	}
}

func sendSignal(t *testing.T, p *proc, s syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(s); err != nil {
		t.Fatalf("%v: %v", s, err)
	}
}

// isActive reads ledger_processor_active from a processor node's metrics.
func isActive(t *testing.T, p *proc) bool {
	t.Helper()
	hc := http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get(p.url + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "ledger_processor_active ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "ledger_processor_active ")) == "1"
		}
	}
	return false
}

// waitActive polls until the processor node is (or is not) the active one.
func waitActive(t *testing.T, p *proc, want bool) {
	t.Helper()
	deadline := time.Now().Add(failoverWaitMax)
	for isActive(t, p) != want {
		if time.Now().After(deadline) {
			t.Fatalf("processor %s: active is not %v after %v\n%s", p.url, want, failoverWaitMax, p.stderr)
		}
		time.Sleep(20 * time.Millisecond) // polling, not an assertion
	}
}

// waitDecided waits until the commands stream holds no undecided command.
func waitDecided(t *testing.T, js jetstream.JetStream, names journalio.Names) {
	t.Helper()
	deadline := time.Now().Add(failoverWaitMax)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := js.Stream(ctx, names.CommandsStream)
		cancel()
		if err == nil && s.CachedInfo().State.Msgs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("commands undecided after %v: %v", failoverWaitMax, err)
		}
		time.Sleep(20 * time.Millisecond) // polling, not an assertion
	}
}

// httpLoad posts transfers from a few clients, each to its API node,
// each transfer again with the same id until it is answered 201 or 200
// (a replay of one posted), however long a fault lasts.
type httpLoad struct {
	mu      sync.Mutex
	apis    []*proc
	clients []*apiClient // the API node each client uses
	node    []int        // its index in apis
	posted  []postedAt
	stopped chan struct{}
	wg      sync.WaitGroup
	ids     []string
}

type postedAt struct {
	submitted, answered time.Time
}

func startHTTPLoad(apis []*proc) *httpLoad {
	l := &httpLoad{apis: apis, stopped: make(chan struct{})}
	for i := range failoverClients {
		l.clients = append(l.clients, newClient(apis[i%len(apis)].url))
		l.node = append(l.node, i%len(apis))
	}
	for i := range failoverClients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; ; n++ {
				id := fmt.Sprintf("c%d-%d", i, n)
				body := map[string]any{"id": id, "from": fmt.Sprintf("acc-%d", (i+n)%failoverAccounts),
					"to": fmt.Sprintf("acc-%d", (i+n+1)%failoverAccounts), "amount": "0.01", "asset": "USD"}
				start := time.Now()
				for {
					select {
					case <-l.stopped:
						return
					default:
					}
					status, _ := l.client(i).do(context.Background(), http.MethodPost, "/v1/transfers", body, nil)
					if status == http.StatusCreated || status == http.StatusOK {
						l.mu.Lock()
						l.posted = append(l.posted, postedAt{submitted: start, answered: time.Now()})
						l.ids = append(l.ids, id)
						l.mu.Unlock()
						break
					}
					time.Sleep(50 * time.Millisecond) // a client's pause before it retries
				}
			}
		}()
	}
	return l
}

func (l *httpLoad) client(i int) *apiClient {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clients[i]
}

// failOver sends the clients of API node from to node to, as a load
// balancer would once from stops answering.
func (l *httpLoad) failOver(from, to int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.clients {
		if l.node[i] == from {
			l.clients[i], l.node[i] = newClient(l.apis[to].url), to
		}
	}
}

// waitPosted waits until n transfers submitted after since are answered
// 201, and returns the time from since to the first such answer.
func (l *httpLoad) waitPosted(t *testing.T, since time.Time, n int) time.Duration {
	t.Helper()
	deadline := time.Now().Add(failoverWaitMax)
	for {
		l.mu.Lock()
		count, first := 0, time.Time{}
		for _, p := range l.posted {
			if p.submitted.After(since) {
				count++
				if first.IsZero() || p.answered.Before(first) {
					first = p.answered
				}
			}
		}
		l.mu.Unlock()
		if count >= n {
			return first.Sub(since)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transfers posted in %v since %v, want %d", count, failoverWaitMax, since, n)
		}
		time.Sleep(10 * time.Millisecond) // polling, not an assertion
	}
}

// stop ends the load and returns the ids answered 201 or 200.
func (l *httpLoad) stop() []string {
	select {
	case <-l.stopped:
	default:
		close(l.stopped)
	}
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ids...)
}
