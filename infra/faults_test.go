package infra_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
)

// Fault injection (issue 18, item 6) in one process: a three-node
// JetStream cluster on loopback with the journal and commands streams at
// three replicas, two processor instances, and a steady load of
// transfers from a few API clients, each on its own connection. After
// each fault: every transfer answered posted is in the journal exactly
// once, every asset sums to zero and the audit passes (checkJournal);
// the time to the first transfer submitted after the fault and posted is
// logged (docs/BENCHMARKS.md, "Failover").
const (
	faultClients = 3
	faultNodes   = 3
	// faultAccounts are funded so that no transfer of the load is
	// rejected for want of money: every one moves 0.01.
	faultAccounts = 4
	// faultSteady is how many transfers are posted before the fault, and
	// again after it, before the load stops.
	faultSteady = 20
	// faultMaxPerClient bounds each client's transfers, whatever happens.
	faultMaxPerClient = 2_000
)

// faultEnv is the deployment a fault is injected into.
type faultEnv struct {
	c      *natsNodes
	procs  []*processor
	client []*client
}

func startFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	c := startNATS(t, faultNodes, faultNodes)
	replicated(t, c)
	log := logs(t)
	e := &faultEnv{c: c}
	e.procs = append(e.procs, startProcessor(t, c, "a", log))
	e.procs[0].waitRole(t, commands.RoleActive)
	e.procs = append(e.procs, startProcessor(t, c, "b", log))
	for range faultClients {
		e.client = append(e.client, newClient(t, c))
	}
	accounts := make([]string, faultAccounts)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("acc-%d", i)
	}
	e.client[0].setup(t, accounts...)
	return e
}

// replicated waits until every replica of the journal and commands
// streams and of the processor's consumer is current.
func replicated(t *testing.T, c *natsNodes) {
	t.Helper()
	nc := c.Connect("replicas")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), failoverWait)
	defer cancel()
	for _, name := range []string{c.names.JournalStream, c.names.CommandsStream} {
		for !current(ctx, js, name) {
			if ctx.Err() != nil {
				t.Fatalf("%s: replicas not current", name)
			}
			time.Sleep(20 * time.Millisecond) // polling, not an assertion
		}
	}
}

// current reports whether stream has a leader and all its replicas are
// current.
func current(ctx context.Context, js jetstream.JetStream, stream string) bool {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return false
	}
	if !replicasCurrent(s.CachedInfo().Cluster) {
		return false
	}
	for name := range s.ConsumerNames(ctx).Name() {
		c, err := s.Consumer(ctx, name)
		if err != nil || !replicasCurrent(c.CachedInfo().Cluster) {
			return false
		}
	}
	return true
}

// replicasCurrent reports whether a stream's or consumer's group has a
// leader and every replica current.
func replicasCurrent(ci *jetstream.ClusterInfo) bool {
	if ci == nil || ci.Leader == "" || len(ci.Replicas) != faultNodes-1 {
		return false
	}
	for _, r := range ci.Replicas {
		if !r.Current || r.Offline {
			return false
		}
	}
	return true
}

// journalLeader returns the index of the node leading the journal stream.
func journalLeader(t *testing.T, c *natsNodes) int {
	t.Helper()
	nc := c.Connect("leader")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), failoverWait)
	defer cancel()
	s, err := js.Stream(ctx, c.names.JournalStream)
	if err != nil {
		t.Fatal(err)
	}
	leader := s.CachedInfo().Cluster.Leader
	i := slices.IndexFunc(c.opts, func(o *server.Options) bool { return o.ServerName == leader })
	if i < 0 {
		t.Fatalf("journal leader %q is none of the nodes", leader)
	}
	nc.Close()
	return i
}

// posting is one transfer answered posted: when it was submitted and when
// the answer came.
type posting struct {
	id                  string
	submitted, answered time.Time
}

// load submits transfers from each client in turn, each one until it
// has an outcome (again with the same id after a timeout), until stopped.
type load struct {
	env     *faultEnv
	mu      sync.Mutex
	posted  []posting
	failed  []string
	stopped chan struct{}
	wg      sync.WaitGroup
}

func (e *faultEnv) startLoad() *load {
	l := &load{env: e, stopped: make(chan struct{})}
	for i, cl := range e.client {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := range faultMaxPerClient {
				select {
				case <-l.stopped:
					return
				default:
				}
				id := fmt.Sprintf("c%d-%d", i, n)
				from, to := fmt.Sprintf("acc-%d", (i+n)%faultAccounts), fmt.Sprintf("acc-%d", (i+n+1)%faultAccounts)
				start := time.Now()
				r, err := cl.tryTransfer(id, from, to, "0.01")
				l.mu.Lock()
				// A retry after a timeout may find the transfer posted
				// already: replayed, the same transfer.
				if err == nil && (r.Outcome == commands.OutcomePosted || r.Outcome == commands.OutcomeReplayed) {
					l.posted = append(l.posted, posting{id: id, submitted: start, answered: time.Now()})
				} else {
					l.failed = append(l.failed, fmt.Sprintf("%s: %+v %v", id, r, err))
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// waitPosted waits until n transfers submitted after since are posted,
// and returns the time from since to the first answer of them.
func (l *load) waitPosted(t *testing.T, since time.Time, n int) time.Duration {
	t.Helper()
	deadline := time.Now().Add(2 * failoverWait)
	for {
		l.mu.Lock()
		var first time.Time
		count := 0
		for _, p := range l.posted {
			if p.submitted.After(since) {
				count++
				if first.IsZero() || p.answered.Before(first) {
					first = p.answered
				}
			}
		}
		failed := slices.Clone(l.failed)
		l.mu.Unlock()
		if len(failed) > 0 {
			l.debug(t)
			t.Fatalf("transfers without the outcome posted: %v", failed)
		}
		if count >= n {
			return first.Sub(since)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transfers posted since the fault, want %d", count, n)
		}
		time.Sleep(10 * time.Millisecond) // polling, not an assertion
	}
}

// longestGap is the longest time between two successive posted answers
// after since (since itself counts as one), up to the last.
func (l *load) longestGap(since time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var at []time.Time
	for _, p := range l.posted {
		if p.answered.After(since) {
			at = append(at, p.answered)
		}
	}
	slices.SortFunc(at, time.Time.Compare)
	var gap time.Duration
	prev := since
	for _, a := range at {
		gap, prev = max(gap, a.Sub(prev)), a
	}
	return gap
}

func (l *load) stop() []string {
	close(l.stopped)
	l.wg.Wait()
	ids := make([]string, 0, len(l.posted))
	for _, p := range l.posted {
		ids = append(ids, p.id)
	}
	return ids
}

// oneActive waits until exactly one processor is active.
func (e *faultEnv) oneActive(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(failoverWait)
	for {
		active := 0
		for _, p := range e.procs {
			if p.cancel != nil && p.proc.Role() == commands.RoleActive {
				active++
			}
		}
		if active == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d processors active", active)
		}
		time.Sleep(10 * time.Millisecond) // polling, not an assertion
	}
}

// active returns the active processor.
func (e *faultEnv) active(t *testing.T) *processor {
	t.Helper()
	e.oneActive(t)
	for _, p := range e.procs {
		if p.cancel != nil && p.proc.Role() == commands.RoleActive {
			return p
		}
	}
	panic("unreachable")
}

// inject runs the load, injects the fault, waits for the ledger to post
// transfers again and checks the journal.
func (e *faultEnv) inject(t *testing.T, name string, fault func() time.Time) {
	t.Helper()
	l := e.startLoad()
	l.waitPosted(t, time.Time{}, faultSteady)
	began := time.Now()
	done := fault()
	recovered := l.waitPosted(t, done, faultSteady)
	outage := l.longestGap(began)
	ids := l.stop()
	t.Logf("fault %q: took %v; first transfer submitted after it posted %v after it; longest time without a posted answer from its start %v (%d posted in all)",
		name, done.Sub(began).Round(time.Millisecond), recovered.Round(time.Millisecond), outage.Round(time.Millisecond), len(ids))
	e.oneActive(t)
	e.decidedAll(t)
	checkJournal(t, e.c, append(ids, setupIDs()...))
}

func setupIDs() []string {
	ids := make([]string, faultAccounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("mint-acc-%d", i)
	}
	return ids
}

func TestFaultKillJournalLeader(t *testing.T) {
	e := startFaultEnv(t)
	e.inject(t, "kill the journal's leader node", func() time.Time {
		i := journalLeader(t, e.c)
		e.c.Stop(i) // it stays down: two of three keep the quorum
		return time.Now()
	})
}

func TestFaultKillActiveProcessor(t *testing.T) {
	e := startFaultEnv(t)
	e.inject(t, "kill the active processor", func() time.Time {
		e.active(t).crash()
		return time.Now()
	})
}

func TestFaultPauseActiveProcessor(t *testing.T) {
	e := startFaultEnv(t)
	e.inject(t, "pause the active processor past its lease, then resume it", func() time.Time {
		p := e.active(t)
		entered, open := p.journal.hold()
		select {
		case <-entered:
		case <-time.After(failoverWait):
			t.Fatal("the active processor never appended")
		}
		resume := p.lease.FreezeRenewals()
		p.src.Stop()
		paused := time.Now()
		for _, q := range e.procs {
			if q != p {
				q.waitRole(t, commands.RoleActive)
			}
		}
		open()
		resume()
		p.waitRole(t, commands.RoleStandby)
		return paused
	})
}

func TestFaultRestartEveryNode(t *testing.T) {
	e := startFaultEnv(t)
	e.inject(t, "restart every node", func() time.Time {
		for i := range e.c.opts {
			e.c.Stop(i)
		}
		for i := range e.c.opts {
			e.c.Start(i)
		}
		return time.Now()
	})
}

func TestFaultKillAPIClientMidRequest(t *testing.T) {
	e := startFaultEnv(t)
	e.inject(t, "kill an API node mid-request", func() time.Time {
		// Its requests in flight are stored, or not; either way they are
		// decided once. Its retries go through another node, as a load
		// balancer would send them.
		e.client[0].failOver(e.client[1])
		return time.Now()
	})
}

// decidedAll waits until the processor has decided every command stored
// (the commands stream keeps only undecided ones), so that the audit does
// not read the journal before a decision and the commands after it.
func (e *faultEnv) decidedAll(t *testing.T) {
	t.Helper()
	nc := e.c.Connect("quiesce")
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(failoverWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := js.Stream(ctx, e.c.names.CommandsStream)
		cancel()
		if err == nil && s.CachedInfo().State.Msgs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("commands still undecided after %v (%v)", failoverWait, err)
		}
		time.Sleep(10 * time.Millisecond) // polling, not an assertion
	}
}

func (l *load) debug(t *testing.T) {
	nc := l.env.c.Connect("debug")
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, l.env.c.names.CommandsStream)
	if err == nil {
		t.Logf("commands stream: %+v cluster %+v", s.CachedInfo().State, s.CachedInfo().Cluster)
	}
	c, err := js.Consumer(ctx, l.env.c.names.CommandsStream, l.env.c.names.ProcessorName)
	if err == nil {
		ci := c.CachedInfo()
		t.Logf("consumer: delivered %+v ackfloor %+v pending %d ackpending %d waiting %d cluster %+v", ci.Delivered, ci.AckFloor, ci.NumPending, ci.NumAckPending, ci.NumWaiting, ci.Cluster)
	}
	for _, p := range l.env.procs {
		t.Logf("processor %s: role %v decided %d", p.id, p.proc.Role(), p.proc.Decided())
	}
}
