package main

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestServeCompatMercury runs `ledger serve --compat mercury=127.0.0.1:PORT`
// and moves money through the adapter, exactly as the Mercury site sends
// it (no Content-Type, a Link), visible through the native API.
func TestServeCompatMercury(t *testing.T) {
	addr := freeAddr(t)
	p := startLedger(t, t.TempDir(), "--compat", "mercury="+addr)
	c := newClient(p.url)
	c.must(t, http.MethodPost, "/v1/assets", map[string]any{"code": "MERCURY", "scale": 6}, http.StatusCreated)
	c.must(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "mercury:alice", "asset": "MERCURY", "owner": "mercury:alice"}, http.StatusCreated)
	c.must(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "world", "to": "mercury:alice", "amount": "10", "asset": "MERCURY", "reference": "Stipend"}, http.StatusCreated)

	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/transact",
		strings.NewReader(`{"From":"alice","To":"bob","Amount":5000000,"Note":"Payment for services","Link":"/x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /transact: %d", resp.StatusCode)
	}
	var bob struct{ Balance, Owner string }
	if s, err := c.do(context.Background(), http.MethodGet, "/v1/accounts/mercury:bob", nil, &bob); err != nil || s != http.StatusOK {
		t.Fatalf("GET mercury:bob: %d %v", s, err)
	}
	if bob.Balance != "5.000000" || bob.Owner != "mercury:bob" {
		t.Fatalf("mercury:bob: %+v", bob)
	}
}

// TestServeCompatMercuryRefusesNonLoopback: Mercury has no
// authentication, so serve refuses a non-loopback address for it (exit 2,
// before binding anything) unless --compat-allow-remote.
func TestServeCompatMercuryRefusesNonLoopback(t *testing.T) {
	p := launch(t, t.TempDir(), "--compat", "mercury=0.0.0.0:2009")
	err := p.wait(t, 30*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2\n%s", err, p.stderr)
	}
	if msg := p.stderr.String(); !strings.Contains(msg, "listens only on a loopback address") || !strings.Contains(msg, "--compat-allow-remote") {
		t.Fatalf("the refusal does not say why or how to lift it:\n%s", msg)
	}
	// With the flag, serve starts (on loopback: tests bind nothing else).
	addr := freeAddr(t)
	startLedger(t, t.TempDir(), "--compat", "mercury="+addr, "--compat-allow-remote")
	resp, err := http.Get("http://" + addr + "/transactions/nobody")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /transactions/nobody: %d", resp.StatusCode)
	}
}
