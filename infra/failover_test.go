package infra_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
)

// failoverWait bounds every wait of these tests: far above what a
// takeover takes (measured and logged, docs/BENCHMARKS.md), so that a
// slow machine does not fail them, and far below a hung test's timeout.
const failoverWait = 30 * time.Second

// processor is one processor instance with its own NATS connection,
// lease and command source, as a separate process would have.
type processor struct {
	id      string
	nc      *nats.Conn
	lease   *infra.Lease
	src     *infra.CommandSource
	journal *gatedJournal
	proc    *commands.Processor
	cancel  context.CancelFunc
	done    chan error
}

// logs collects the instances' logs, shown when a test fails.
func logs(t *testing.T) *slog.Logger {
	buf := &natstest.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func startProcessor(t *testing.T, c *natsNodes, id string, log *slog.Logger) *processor {
	t.Helper()
	nc := c.Connect("processor " + id)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := infra.EnsureLease(context.Background(), js, c.names, infra.LeaseConfig{ID: id, Replicas: len(c.opts), Logger: log.With("instance", id)})
	if err != nil {
		t.Fatal(err)
	}
	p := &processor{id: id, nc: nc, lease: lease, src: infra.NewCommandSource(js, c.names),
		journal: &gatedJournal{Journal: infra.NewJournal(js, c.names)}, done: make(chan error, 1)}
	p.proc = commands.New(p.journal, p.src, infra.NewNotifier(nc), commands.Config{Logger: log.With("instance", id), Elector: lease})
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- p.proc.Run(ctx) }()
	t.Cleanup(p.stop)
	return p
}

// stop shuts the instance down cleanly: it gives the lease up.
func (p *processor) stop() {
	if p.cancel == nil {
		return
	}
	p.cancel()
	<-p.done
	p.src.Close()
	p.cancel = nil
}

// crash ends the instance as a kill -9 would: its connection drops
// first, so the lease is neither renewed nor given up.
func (p *processor) crash() {
	p.nc.Close()
	p.stop()
}

// waitRole polls until the instance's role is want.
func (p *processor) waitRole(t *testing.T, want commands.Role) time.Duration {
	t.Helper()
	start := time.Now()
	for p.proc.Role() != want {
		if time.Since(start) > failoverWait {
			t.Fatalf("%s is %v, not %v, after %v", p.id, p.proc.Role(), want, failoverWait)
		}
		time.Sleep(5 * time.Millisecond) // polling, not an assertion
	}
	return time.Since(start)
}

// gatedJournal is the processor's journal; a test can hold its next
// append (the instance then hangs with a batch decided) and see what
// each append returned.
type gatedJournal struct {
	commands.Journal
	mu      sync.Mutex
	gate    chan struct{}
	entered chan struct{}
	results []error
}

// hold makes the next Append wait, after closing entered, until open.
func (g *gatedJournal) hold() (entered <-chan struct{}, open func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate, g.entered = make(chan struct{}), make(chan struct{})
	gate := g.gate
	return g.entered, func() { close(gate) }
}

func (g *gatedJournal) Append(ctx context.Context, records []domain.Record, after uint64) (uint64, error) {
	g.mu.Lock()
	gate, entered := g.gate, g.entered
	g.gate = nil
	g.mu.Unlock()
	if gate != nil {
		close(entered)
		<-gate
	}
	pos, err := g.Journal.Append(ctx, records, after)
	g.mu.Lock()
	g.results = append(g.results, err)
	g.mu.Unlock()
	return pos, err
}

func (g *gatedJournal) appends() []error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]error(nil), g.results...)
}

// client submits commands on its own connection and waits for their
// outcomes, as an API node does.
type client struct {
	mu  sync.Mutex
	nc  *nats.Conn
	sub *infra.Submitter
}

func newClient(t *testing.T, c *natsNodes) *client {
	t.Helper()
	nc := c.Connect("api")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := infra.NewSubmitter(nc, js, c.names, infra.GroupCommit{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return &client{nc: nc, sub: sub}
}

// failOver kills the client's API node, as a kill -9 would (its
// connection drops with requests in flight), and sends what it submits
// from now on through other's, as a load balancer would.
func (cl *client) failOver(other *client) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.nc.Close()
	cl.sub = other.submitter()
}

func (cl *client) submitter() *infra.Submitter {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.sub
}

// submitOnce submits items and waits up to 10 s for their outcome.
func (cl *client) submitOnce(items ...commands.Item) ([]commands.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cl.submitter().Submit(ctx, items, true)
}

// transfer submits one transfer, again with the same id after a timeout
// (which is safe: an id is decided once), until it has an outcome.
func (cl *client) transfer(t *testing.T, id, from, to, amount string) commands.Result {
	t.Helper()
	r, err := cl.tryTransfer(id, from, to, amount)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryTransfer is transfer for any goroutine.
func (cl *client) tryTransfer(id, from, to, amount string) (commands.Result, error) {
	start := time.Now()
	for {
		rs, err := cl.submitOnce(commands.Item{Transfer: &domain.Transfer{ID: id, From: from, To: to, Amount: amount}})
		if err == nil {
			return rs[0], nil
		}
		if time.Since(start) > failoverWait {
			return commands.Result{}, fmt.Errorf("transfer %s: no outcome in %v: %w", id, failoverWait, err)
		}
	}
}

func (cl *client) setup(t *testing.T, accounts ...string) {
	t.Helper()
	items := []commands.Item{{Asset: &domain.Asset{Code: "USD", Scale: 2}}}
	for _, a := range accounts {
		items = append(items, commands.Item{Account: &domain.Account{ID: a, Asset: "USD"}},
			commands.Item{Transfer: &domain.Transfer{ID: "mint-" + a, From: domain.World, To: a, Amount: "1000.00"}})
	}
	rs, err := cl.submitOnce(items...)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	for i, r := range rs {
		if r.Outcome != commands.OutcomeCreated && r.Outcome != commands.OutcomePosted {
			t.Fatalf("setup item %d: %+v", i, r)
		}
	}
}

// checkJournal checks that every id in posted is in the journal exactly
// once, that no transfer was posted twice, and that the audit passes
// (hash chain, gapless sequences, every asset summing to zero).
func checkJournal(t *testing.T, c *natsNodes, posted []string) {
	t.Helper()
	nc := c.Connect("check")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range journaltest.ReadEvents(t, js, c.names) {
		if ev.Type == domain.EventTransferPosted {
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
			t.Errorf("transfer %s answered posted, in the journal %d times", id, seen[id])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), failoverWait)
	defer cancel()
	res, err := audit.Run(ctx, &audit.JetStreamSource{JS: js, Names: c.names}, audit.Options{})
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	if !res.Report.OK {
		t.Fatalf("audit failed: %v", res.Report.Findings)
	}
}

// startPair starts n JetStream servers, processor a, active, then
// processor b, and a client that has opened alice and bob.
func startPair(t *testing.T, n int) (c *natsNodes, a, b *processor, cl *client) {
	t.Helper()
	c = startNATS(t, n, 1)
	log := logs(t)
	a = startProcessor(t, c, "a", log)
	a.waitRole(t, commands.RoleActive)
	b = startProcessor(t, c, "b", log)
	cl = newClient(t, c)
	cl.setup(t, "alice", "bob")
	return c, a, b, cl
}

// clusterSizes are the deployments the election is tested on: one
// JetStream server, and a cluster of three.
var clusterSizes = []int{1, 3}

func TestStandbyTakesOverFromDeadActive(t *testing.T) {
	for _, n := range clusterSizes {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			c, a, b, cl := startPair(t, n)
			if got := b.proc.Role(); got != commands.RoleStandby {
				t.Fatalf("b is %v while a is active", got)
			}
			posted := []string{"mint-alice", "mint-bob"}
			if r := cl.transfer(t, "before", "alice", "bob", "1.00"); r.Outcome != commands.OutcomePosted {
				t.Fatalf("before: %+v", r)
			}
			posted = append(posted, "before")

			crashed := time.Now()
			a.crash()
			took := b.waitRole(t, commands.RoleActive)
			r := cl.transfer(t, "after", "bob", "alice", "2.00")
			if r.Outcome != commands.OutcomePosted {
				t.Fatalf("after: %+v", r)
			}
			t.Logf("%d nodes: standby active %v after the active one's death; first transfer posted after %v",
				n, took.Round(time.Millisecond), time.Since(crashed).Round(time.Millisecond))
			posted = append(posted, "after")
			if h := b.lease.Holder(); h != "b" {
				t.Errorf("lease holder %q, want b", h)
			}
			checkJournal(t, c, posted)
		})
	}
}

func TestPausedActiveIsFencedAndStepsDown(t *testing.T) {
	for _, n := range clusterSizes {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			c, a, b, cl := startPair(t, n)

			// a decides "held" and hangs before its append, its renewals
			// and its pulls frozen, as under SIGSTOP.
			entered, open := a.journal.hold()
			held := make(chan commands.Result, 1)
			go func() {
				r, err := cl.tryTransfer("held", "alice", "bob", "5.00")
				if err != nil {
					r.Detail = err.Error()
				}
				held <- r
			}()
			select {
			case <-entered:
			case <-time.After(failoverWait):
				t.Fatal("a never appended")
			}
			paused := time.Now()
			resume := a.lease.FreezeRenewals()
			a.src.Stop()

			took := b.waitRole(t, commands.RoleActive)
			r := <-held
			if r.Outcome != commands.OutcomePosted {
				t.Fatalf("held, decided by b: %+v", r)
			}
			t.Logf("%d nodes: standby active %v after the active one froze; its held transfer posted after %v",
				n, took.Round(time.Millisecond), time.Since(paused).Round(time.Millisecond))
			if r := cl.transfer(t, "during", "bob", "alice", "1.00"); r.Outcome != commands.OutcomePosted {
				t.Fatalf("during: %+v", r)
			}

			// a wakes: its append is refused by the fence, and it stands by.
			open()
			resume()
			deadline := time.Now().Add(failoverWait)
			for len(a.journal.appends()) < 2 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond) // polling, not an assertion
			}
			results := a.journal.appends()
			if len(results) < 2 || !errors.Is(results[len(results)-1], commands.ErrFenced) {
				t.Fatalf("a's appends returned %v; want the last one fenced", results)
			}
			a.waitRole(t, commands.RoleStandby)
			if r := cl.transfer(t, "after", "alice", "bob", "2.00"); r.Outcome != commands.OutcomePosted {
				t.Fatalf("after: %+v", r)
			}
			if got := b.proc.Role(); got != commands.RoleActive {
				t.Errorf("b is %v after a woke", got)
			}
			if got := a.proc.Role(); got != commands.RoleStandby {
				t.Errorf("a is %v after b took over", got)
			}
			if got := len(a.journal.appends()); got != len(results) {
				t.Errorf("a appended again after it was fenced (%d appends, then %d)", len(results), got)
			}
			checkJournal(t, c, []string{"mint-alice", "mint-bob", "held", "during", "after"})
		})
	}
}
