package node_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/node"
	"github.com/nats-ledger/ledger/subscriber"
)

// Webhook delivery has exactly one owner among the API nodes of a ledger:
// the first started holds the lease and delivers, the second only serves
// the registry. When the owner stops, the other takes over and delivers
// the webhook it did not create, from where the owner left off. (At
// least once: an event whose acknowledgement the stopping owner had not
// sent yet is delivered again by the next, as after a restart.)
func TestWebhookDeliveryHasOneOwner(t *testing.T) {
	got := newSeqReceiver(t)
	srv := natstest.StartExternal(t)
	startRole(t, []string{srv.URL}, node.Roles{node.RoleProcessor}, nil)
	loopback := func(c *node.Config) {
		c.Webhooks.AllowNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}
	first := startRole(t, []string{srv.URL}, node.Roles{node.RoleAPI}, loopback)
	second := startRole(t, []string{srv.URL}, node.Roles{node.RoleAPI}, loopback)
	if !first.node.DeliversWebhooks() || second.node.DeliversWebhooks() {
		t.Fatalf("delivers: first %v, second %v; want the first only", first.node.DeliversWebhooks(), second.node.DeliversWebhooks())
	}

	must(t, first.post(t, "/v1/assets", `{"code":"USD","scale":2}`), http.StatusCreated, "asset")
	must(t, first.post(t, "/v1/accounts", `{"id":"alice","asset":"USD"}`), http.StatusCreated, "account")
	must(t, first.post(t, "/v1/webhooks", `{"url":"`+got.url+`","events":["TransferPosted"]}`), http.StatusCreated, "webhook")
	r := first.post(t, "/v1/transfers", `{"id":"t1","from":"world","to":"alice","amount":"1","asset":"USD"}`)
	must(t, r, http.StatusCreated, "first transfer")
	seq1, _ := strconv.ParseUint(r.Header.Get("Ledger-Sequence"), 10, 64)
	got.await(t, seq1)

	first.close()
	waitFor(t, "the second node to take over delivery", second.node.DeliversWebhooks)
	r = second.post(t, "/v1/transfers", `{"id":"t2","from":"world","to":"alice","amount":"2","asset":"USD"}`)
	must(t, r, http.StatusCreated, "second transfer")
	seq2, _ := strconv.ParseUint(r.Header.Get("Ledger-Sequence"), 10, 64)
	got.await(t, seq2)
}

// seqReceiver is a loopback webhook endpoint counting deliveries by event
// sequence.
type seqReceiver struct {
	url  string
	mu   sync.Mutex
	seen map[uint64]int // deliveries by event sequence
	cond chan struct{}  // closed and replaced at each delivery
}

func newSeqReceiver(t *testing.T) *seqReceiver {
	r := &seqReceiver{seen: map[uint64]int{}, cond: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		seq, _ := strconv.ParseUint(req.Header.Get(subscriber.HeaderEventID), 10, 64)
		r.mu.Lock()
		r.seen[seq]++
		close(r.cond)
		r.cond = make(chan struct{})
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// await waits (at most 30 s) for the delivery of event seq.
func (r *seqReceiver) await(t *testing.T, seq uint64) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		n, next := r.seen[seq], r.cond
		r.mu.Unlock()
		if n > 0 {
			return
		}
		select {
		case <-next:
		case <-timeout:
			t.Fatalf("event %d not delivered", seq)
		}
	}
}

// waitFor polls cond (at most 30 s).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling
	}
}
