package node_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/internal/ledgertest"
	"github.com/nats-ledger/ledger/node"
)

// roleNode is a node of some roles against an external NATS, its HTTP
// handler served on loopback.
type roleNode struct {
	node  *node.Node
	url   string
	close func()
}

func startRole(t *testing.T, urls []string, roles node.Roles, set func(*node.Config)) *roleNode {
	t.Helper()
	cfg := node.Config{DataDir: t.TempDir(), AdminToken: ledgertest.AdminToken, Roles: roles,
		NATS:   infra.ClientConfig{URLs: urls},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if set != nil {
		set(&cfg)
	}
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start %s node: %v", roles, err)
	}
	srv := httptest.NewServer(n.Handler)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			srv.Close()
			_ = n.Close()
		})
	}
	t.Cleanup(stop)
	return &roleNode{node: n, url: srv.URL, close: stop}
}

func (r *roleNode) post(t *testing.T, path, body string) ledgertest.Response {
	t.Helper()
	return ledgertest.Do(t, http.MethodPost, r.url+path, body, "Authorization", "Bearer "+ledgertest.AdminToken,
		"Content-Type", "application/json")
}

func (r *roleNode) get(t *testing.T, path string) ledgertest.Response {
	t.Helper()
	return ledgertest.Do(t, http.MethodGet, r.url+path, "", "Authorization", "Bearer "+ledgertest.AdminToken)
}

func must(t *testing.T, r ledgertest.Response, want int, what string) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, want)
	}
}

// An API node and a processor node, separate, on an external NATS: a
// transfer sent to the API node is decided by the processor node and
// answered 201 with the processor's balances; the processor node serves
// health, readiness and metrics, not the API.
func TestRolesAPIAndProcessorOnExternalNATS(t *testing.T) {
	nats := natstest.StartExternal(t)
	proc := startRole(t, []string{nats.URL}, node.Roles{node.RoleProcessor}, nil)
	api := startRole(t, []string{nats.URL}, node.Roles{node.RoleAPI}, nil)

	must(t, api.post(t, "/v1/assets", `{"code":"USD","scale":2}`), http.StatusCreated, "asset")
	must(t, api.post(t, "/v1/accounts", `{"id":"alice","asset":"USD"}`), http.StatusCreated, "account")
	r := api.post(t, "/v1/transfers", `{"id":"t1","from":"world","to":"alice","amount":"12.50","asset":"USD"}`)
	must(t, r, http.StatusCreated, "transfer")
	var out struct {
		Status  string `json:"status"`
		Entries []struct {
			Account      string `json:"account"`
			BalanceAfter string `json:"balance_after"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	if out.Status != "posted" {
		t.Fatalf("transfer: %s", r.Body)
	}
	// The API node's own read model follows the journal the processor
	// node writes: the read after the 201 sees it.
	acct := api.get(t, "/v1/accounts/alice")
	must(t, acct, http.StatusOK, "account")
	var a struct {
		Balance string `json:"balance"`
	}
	if err := json.Unmarshal(acct.Body, &a); err != nil || a.Balance != "12.50" {
		t.Fatalf("account after the transfer: %s", acct.Body)
	}

	must(t, ledgertest.Do(t, http.MethodGet, proc.url+"/healthz", ""), http.StatusOK, "processor healthz")
	must(t, ledgertest.Do(t, http.MethodGet, proc.url+"/readyz", ""), http.StatusOK, "processor readyz")
	must(t, ledgertest.Do(t, http.MethodGet, proc.url+"/metrics", ""), http.StatusOK, "processor metrics")
	must(t, proc.post(t, "/v1/transfers", `{"from":"world","to":"bob","amount":"1","asset":"USD"}`), http.StatusNotFound, "API on the processor node")
	ledgertest.AuditJetStream(t, api.node.JS, api.node.Names)
}

// An API node with no processor anywhere (the one that opened the
// account has stopped) stores the transfer and answers 202 once its sync
// timeout passes; a processor node started afterwards decides it, and
// the transfer reads as posted.
func TestRolesAPIWithoutProcessorAnswers202(t *testing.T) {
	nats := natstest.StartExternal(t)
	first := startRole(t, []string{nats.URL}, node.Roles{node.RoleProcessor}, nil)
	api := startRole(t, []string{nats.URL}, node.Roles{node.RoleAPI}, func(c *node.Config) { c.SyncTimeout = 200 * time.Millisecond })
	must(t, api.post(t, "/v1/assets", `{"code":"USD","scale":2}`), http.StatusCreated, "asset")
	must(t, api.post(t, "/v1/accounts", `{"id":"alice","asset":"USD"}`), http.StatusCreated, "account")
	first.close()

	r := api.post(t, "/v1/transfers", `{"id":"t1","from":"world","to":"alice","amount":"3","asset":"USD"}`)
	must(t, r, http.StatusAccepted, "transfer without a processor")
	if loc := r.Header.Get("Location"); loc != "/v1/transfers/t1" {
		t.Fatalf("Location %q", loc)
	}

	startRole(t, []string{nats.URL}, node.Roles{node.RoleProcessor}, nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := api.get(t, "/v1/transfers/t1")
		var v struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(got.Body, &v)
		if got.Status == http.StatusOK && v.Status == "posted" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("transfer not posted once a processor started: %d %s", got.Status, got.Body)
		}
		time.Sleep(20 * time.Millisecond) // polling for the processor's start
	}
	ledgertest.AuditJetStream(t, api.node.JS, api.node.Names)
}
