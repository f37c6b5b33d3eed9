package subscriber_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/subscriber"
)

// waitTimeout bounds every wait in these tests. It is longer than the
// consumer's ack wait (30 s): an acknowledgement lost on a loaded machine
// (they are sent without confirmation) is recovered by the redelivery
// after the ack wait, which these tests must allow for. In a CI run with a
// cold build cache, TestEventSchemas once received 28 of 32 events within
// 10 s, with no resubscription logged: the pattern of a record waiting for
// its redelivery.
const waitTimeout = 45 * time.Second

// recordEventsMax packs at most this many events into one journal record
// here, so that small journals still have records of several events.
const recordEventsMax = 4

// t0 is the fixture's epoch: batch n is stamped t0 + n minutes.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// journal is a real journal on an in-process JetStream, written the way
// the processor writes it: decided by domain.State, packed by
// commands.EncodeRecords, appended by infra.Journal.
type journal struct {
	t       testing.TB
	srv     *natstest.Server
	w       *natstest.Writer
	batches int
	events  []*domain.Event // every event, in order
}

func newJournal(t testing.TB) *journal {
	t.Helper()
	srv := natstest.Start(t, t.TempDir())
	w := srv.Writer()
	w.MaxRecordEvents = recordEventsMax
	return &journal{t: t, srv: srv, w: w}
}

// ledger is the fixture ledger's name.
func (j *journal) ledger() string { return j.srv.Names.Ledger }

// batch decides cmds as one processor batch stamped minute(n) for the
// n-th batch and appends the resulting events.
func (j *journal) batch(cmds ...domain.Command) {
	j.t.Helper()
	j.batches++
	_, events := j.w.Batch(j.t, minute(j.batches), cmds...)
	j.events = append(j.events, events...)
}

func defineAsset(code string, scale int) domain.Command {
	return domain.Command{DefineAsset: &domain.Asset{Code: code, Scale: scale}}
}

func openAccount(id, asset string) domain.Command {
	return domain.Command{OpenAccount: &domain.Account{ID: id, Asset: asset, Owner: "owner-" + id, Metadata: map[string]string{"k": "v"}}}
}

func transfer(id, from, to, amount string) domain.Command {
	return domain.Command{Transfer: &domain.Transfer{ID: id, From: from, To: to, Amount: amount, Reference: "ref " + id}}
}

// seed writes five batches, 26 events of every type, most records holding
// several events:
//
//	(1) seq 1      asset USD
//	(2) seq 2-6    accounts a1..a5
//	(3) seq 7-11   mints of 100 to each
//	(4) seq 12-19  transfers, two of them rejected (insufficient funds)
//	(5) seq 20-26  transfers
func (j *journal) seed() {
	j.t.Helper()
	j.batch(defineAsset("USD", 2))
	var cmds []domain.Command
	for i := 1; i <= 5; i++ {
		cmds = append(cmds, openAccount(fmt.Sprintf("a%d", i), "USD"))
	}
	j.batch(cmds...)
	cmds = nil
	for i := 1; i <= 5; i++ {
		cmds = append(cmds, transfer(fmt.Sprintf("m%d", i), domain.World, fmt.Sprintf("a%d", i), "100"))
	}
	j.batch(cmds...)
	j.batch(
		transfer("t1", "a1", "a2", "10"), transfer("t2", "a2", "a3", "1.5"), transfer("t3", "a3", "a4", "500"),
		transfer("t4", "a4", "a5", "2"), transfer("t5", "a5", "a1", "3"), transfer("t6", "a1", "a5", "1000"),
		transfer("t7", "a2", "a1", "4"), transfer("t8", "a3", "a2", "5"),
	)
	cmds = nil
	for i := 1; i <= 7; i++ {
		cmds = append(cmds, transfer(fmt.Sprintf("u%d", i), fmt.Sprintf("a%d", i%5+1), fmt.Sprintf("a%d", (i+1)%5+1), "0.25"))
	}
	j.batch(cmds...)
	if len(j.events) != 26 {
		j.t.Fatalf("seed wrote %d events, want 26", len(j.events))
	}
}

// more appends n transfers between a1 and a2.
func (j *journal) more(prefix string, n int) {
	j.t.Helper()
	var cmds []domain.Command
	for i := 0; i < n; i++ {
		cmds = append(cmds, transfer(fmt.Sprintf("%s%d", prefix, i), "a1", "a2", "0.01"))
	}
	j.batch(cmds...)
}

// seqs returns the sequences of the journal's events that pass keep.
func (j *journal) seqs(keep func(*domain.Event) bool) []uint64 {
	var out []uint64
	for _, ev := range j.events {
		if keep == nil || keep(ev) {
			out = append(out, ev.Seq)
		}
	}
	return out
}

func (j *journal) newSubscriber(cfg subscriber.Config) *subscriber.Subscriber {
	j.t.Helper()
	cfg.Conn, cfg.Ledger = j.srv.NC, j.ledger()
	s, err := subscriber.New(cfg)
	if err != nil {
		j.t.Fatal(err)
	}
	return s
}

// received is what a handler saw, safe to read while Run goes on.
type received struct {
	mu     sync.Mutex
	events []subscriber.Event // Line copied
}

func (r *received) add(ev subscriber.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev.Line = append([]byte(nil), ev.Line...)
	r.events = append(r.events, ev)
}

func (r *received) seqs() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]uint64, len(r.events))
	for i, ev := range r.events {
		out[i] = ev.Seq
	}
	return out
}

func (r *received) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// run runs s in the background, recording every event, until the test
// ends or stop is called; stop returns Run's error.
func run(t *testing.T, s *subscriber.Subscriber) (*received, func() error) {
	t.Helper()
	r := &received{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(_ context.Context, ev subscriber.Event) error {
			r.add(ev)
			return nil
		})
	}()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(waitTimeout):
				err = fmt.Errorf("Run did not return within %v of its cancellation", waitTimeout)
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return r, stop
}

// waitFor waits until r holds n events.
func waitFor(t *testing.T, r *received, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for r.len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("received %d events, want %d: %v", r.len(), n, r.seqs())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settleFor checks that nothing more than n events arrives for a moment.
func settleFor(t *testing.T, r *received, n int) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	if got := r.len(); got != n {
		t.Fatalf("received %d events, want exactly %d: %v", got, n, r.seqs())
	}
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}
