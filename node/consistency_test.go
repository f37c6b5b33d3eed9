package node_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/internal/ledgertest"
	"github.com/nats-ledger/ledger/node"
)

// Read-your-writes across API nodes: a write's answer names its journal
// sequence (Ledger-Sequence), and a read on another API node that carries
// it (Ledger-Min-Sequence) waits until that node's read model has applied
// it, answering 503 if it cannot in its read wait, never stale data. The
// second API node's connection to NATS goes through a proxy that holds
// back what the server sends, so its read model cannot follow the journal
// until it is released.
func TestConsistencyTokenAcrossAPINodes(t *testing.T) {
	srv := natstest.StartExternal(t)
	proxy := natstest.StartProxy(t, srv.URL[len("nats://"):])
	startRole(t, []string{srv.URL}, node.Roles{node.RoleProcessor}, nil)
	writer := startRole(t, []string{srv.URL}, node.Roles{node.RoleAPI}, nil)
	reader := startRole(t, []string{proxy.URL()}, node.Roles{node.RoleAPI}, func(c *node.Config) { c.ReadWait = time.Second })

	must(t, writer.post(t, "/v1/assets", `{"code":"USD","scale":2}`), http.StatusCreated, "asset")
	opened := writer.post(t, "/v1/accounts", `{"id":"alice","asset":"USD"}`)
	must(t, opened, http.StatusCreated, "account")
	// The token of the account's opening: the reader has it once this
	// read answers.
	must(t, reader.getAfter(t, "/v1/accounts/alice", opened), http.StatusOK, "the account on the other node")

	proxy.Hold()
	posted := writer.post(t, "/v1/transfers", `{"id":"t1","from":"world","to":"alice","amount":"12.50","asset":"USD"}`)
	must(t, posted, http.StatusCreated, "transfer")
	seq, err := strconv.ParseUint(posted.Header.Get(api.HeaderSequence), 10, 64)
	if err != nil || seq == 0 {
		t.Fatalf("the 201 has %s %q, want the journal sequence of its outcome", api.HeaderSequence, posted.Header.Get(api.HeaderSequence))
	}
	if balance(t, reader.get(t, "/v1/accounts/alice")) != "0.00" {
		t.Fatal("the held node's read model has the transfer: the test proves nothing")
	}
	must(t, reader.getAfter(t, "/v1/accounts/alice", posted), http.StatusServiceUnavailable,
		"a read naming a sequence the node's read model cannot reach in its read wait")
	proxy.Release()

	deadline := time.Now().Add(30 * time.Second)
	for {
		r := reader.getAfter(t, "/v1/accounts/alice", posted)
		if r.Status == http.StatusOK {
			if b := balance(t, r); b != "12.50" {
				t.Fatalf("a read naming the transfer's sequence answered the balance %s, want 12.50", b)
			}
			break
		}
		if r.Status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("a read naming the transfer's sequence after the release: %d %s", r.Status, r.Body)
		}
	}
	bad := ledgertest.Do(t, http.MethodGet, reader.url+"/v1/accounts/alice", "", "Authorization", "Bearer "+ledgertest.AdminToken,
		api.HeaderMinSequence, "soon")
	must(t, bad, http.StatusBadRequest, "a malformed "+api.HeaderMinSequence)
}

// getAfter reads path naming the sequence of the write that answered w.
func (r *roleNode) getAfter(t *testing.T, path string, w ledgertest.Response) ledgertest.Response {
	t.Helper()
	seq := w.Header.Get(api.HeaderSequence)
	if seq == "" {
		t.Fatalf("the write's answer has no %s header", api.HeaderSequence)
	}
	return ledgertest.Do(t, http.MethodGet, r.url+path, "", "Authorization", "Bearer "+ledgertest.AdminToken,
		api.HeaderMinSequence, seq)
}

func balance(t *testing.T, r ledgertest.Response) string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("account: %d %s", r.Status, r.Body)
	}
	var a struct {
		Balance string `json:"balance"`
	}
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatal(err)
	}
	return a.Balance
}
