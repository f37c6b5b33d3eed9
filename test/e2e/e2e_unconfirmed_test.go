package e2e_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/auth"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/node"
)

// TestE2EUnconfirmedPublishSaysMaybeStored loses the PubAcks of a
// transfer and of an atomic batch that JetStream stored: a second API
// server, on the same ledger, submits through a NATS connection behind a
// proxy that holds what the server sends. Each POST answers 503 saying it
// is not known whether the transfer (the batch) was stored and to retry
// with the same id, never that it was not stored, and each is in fact
// posted. Once the proxy forwards again, the retries with the same ids
// answer the one outcome, and the journal holds each transfer once.
func TestE2EUnconfirmedPublishSaysMaybeStored(t *testing.T) {
	t.Parallel()
	natsAddr := e2eFreeAddr(t)
	_, port, _ := net.SplitHostPort(natsAddr)
	l := e2eStartWith(t, node.Config{NATSListen: port})
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.mint(t, "alice", "100.00")

	p := e2eProxied(t, l, natsAddr)
	transfer := map[string]any{"id": "t-unconfirmed", "from": "alice", "to": "bob", "amount": "10.00"}
	// Through the open proxy, an answer as usual.
	p.post(t, map[string]any{"id": "t-through", "from": "alice", "to": "bob", "amount": "1.00"})

	// Held: a single transfer (group commit) and an atomic batch (a
	// command message of its own) reach the commands stream, but their
	// PubAcks do not come back, and each publish times out.
	p.proxy.Hold()
	batch := map[string]any{"atomic": true, "transfers": []map[string]any{tr("b-1", "alice", "bob", "2.00"), tr("b-2", "alice", "bob", "3.00")}}
	answers := make(chan e2eResp, 2)
	for _, req := range []struct {
		path string
		body any
	}{{"/v1/transfers", transfer}, {"/v1/transfers/batch", batch}} {
		go func() {
			r, err := p.send(http.MethodPost, req.path, req.body)
			if err != nil {
				r = e2eResp{Method: http.MethodPost, Path: req.path, Body: []byte(err.Error())}
			}
			answers <- r
		}()
	}
	for range 2 {
		r := <-answers // bounded by the client's timeout
		what := "transfer t-unconfirmed"
		if r.Path == "/v1/transfers/batch" {
			what = "the batch"
		}
		pr := e2eCheckProblem(t, r, http.StatusServiceUnavailable, "unavailable", "")
		for _, want := range []string{"not known whether " + what + " was stored", "retry with the same id"} {
			if !strings.Contains(pr.Detail, want) {
				t.Errorf("%s: 503 detail %q does not say %q", r.Path, pr.Detail, want)
			}
		}
		if strings.Contains(pr.Detail, "not stored") || strings.Contains(pr.Detail, "could not be stored") {
			t.Errorf("%s: 503 detail %q says %s was not stored; it was", r.Path, pr.Detail, what)
		}
	}
	// They were stored: the processor decides them, whatever the answer
	// said.
	ids := []string{"t-unconfirmed", "b-1", "b-2"}
	e2eEventually(t, e2eOutcomeWait, "the unconfirmed transfers to be journaled", func() (bool, string) {
		j := l.journal(t)
		var counts []string
		ok := true
		for _, id := range ids {
			n := len(j.postedEvents(id))
			ok = ok && n == 1
			counts = append(counts, fmt.Sprintf("%s posted %d times", id, n))
		}
		return ok, strings.Join(counts, ", ")
	})

	// Released: the retries with the same ids answer the one outcome.
	p.proxy.Release()
	r := p.do(t, http.MethodPost, "/v1/transfers", transfer)
	got := e2eJSON[e2eTransfer](t, r, http.StatusOK)
	if got.ID != "t-unconfirmed" || got.Status != "posted" || got.Amount != "10.00" || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry with the same id: %s, want the posted transfer, replayed", r)
	}
	j := l.journal(t)
	j.checkPosted(t, got)
	for i, res := range p.batch(t, true, batch["transfers"].([]map[string]any)...) {
		if res.Status != http.StatusOK || !res.Replayed || res.Transfer == nil || res.Transfer.Status != "posted" {
			t.Errorf("batch retry, item %d: %+v, want the posted transfer, replayed", i, res)
			continue
		}
		j.checkPosted(t, *res.Transfer)
	}
	j = l.journal(t)
	for _, id := range ids {
		if n := len(j.postedEvents(id)); n != 1 {
			t.Errorf("%s posted %d times, want once", id, n)
		}
	}
	if a := l.account(t, "alice", ""); a.Balance != "84.00" {
		t.Errorf("alice's balance %s, want 84.00 (100.00 - 1.00 - 10.00 - 2.00 - 3.00, each once)", a.Balance)
	}
	l.checkZeroSum(t, "USD", "alice", "bob")
}

// e2eProxiedLedger is a second API server on l's ledger whose submitter
// connects to l's NATS listener through a proxy the test controls.
type e2eProxiedLedger struct {
	*e2eLedger
	proxy *natstest.Proxy
}

// e2eProxied starts the API on l's read model and names, classifying the
// submitter's errors as the node does, with a submitter connected to
// natsAddr through a proxy. (It leaves out what only restarts and the
// lag bound need: JournalSeq, Undecided, Restored, Ready.)
func e2eProxied(t *testing.T, l *e2eLedger, natsAddr string) e2eProxiedLedger {
	t.Helper()
	password, err := os.ReadFile(auth.NATSPasswordFile(l.dataDir))
	if err != nil {
		t.Fatal(err)
	}
	proxy := natstest.StartProxy(t, natsAddr)
	nc, err := nats.Connect(proxy.URL(), nats.UserInfo(auth.NATSUser, strings.TrimSpace(string(password))), nats.NoReconnect())
	if err != nil {
		t.Fatalf("connect through the proxy: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := infra.NewSubmitter(nc, js, l.node.Names, infra.GroupCommit{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	h := api.New(api.Config{
		SyncTimeout: e2eClientWait / 2,
		ReadWait:    e2eClientWait / 2,
		Auth:        api.StaticToken{Token: e2eAdminToken, Subject: "admin-token"},
		Logger:      slog.New(slog.DiscardHandler),
	}, sub, l.node.Store)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := &http.Client{Timeout: e2eClientWait}
	t.Cleanup(client.CloseIdleConnections)
	return e2eProxiedLedger{
		e2eLedger: &e2eLedger{node: l.node, base: srv.URL, client: client, token: e2eAdminToken, dataDir: l.dataDir, stop: func() {}},
		proxy:     proxy,
	}
}

// e2eFreeAddr returns a loopback address with a port free a moment ago.
func e2eFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
