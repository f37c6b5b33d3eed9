package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `ledger serve --compat allmine=ADDR` serves Allmine's credit transfer on
// its own listener, authenticated by the ledger's own tokens; the
// transfer is native: the native API shows its balances, and the journal
// passes the audit.
func TestServeCompatAllmine(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	p := startLedger(t, dir, "--compat", "allmine="+addr)
	c := newClient(p.url)
	c.must(t, http.MethodPost, "/v1/assets", map[string]any{"code": "ALLMINE", "scale": 2}, http.StatusCreated)
	for _, u := range []string{"alice", "bob"} {
		c.must(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "allmine:" + u, "asset": "ALLMINE", "owner": u}, http.StatusCreated)
	}
	c.must(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "world", "to": "allmine:alice", "amount": "100", "asset": "ALLMINE"}, http.StatusCreated)

	out, errOut, status := runCLI(t, dir, "token", "create", "--data-dir", dir, "--sub", "alice", "--scope", "transfers:write")
	if status != 0 {
		t.Fatalf("token create: %d %s", status, errOut)
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/messages/credit-transfer",
		strings.NewReader(`{"recipientId":"bob","amount":25}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(out))
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"senderId":"alice","recipientId":"bob","transferredAmount":25,"senderBalance":75,"recipientBalance":25}` + "\n"
	if resp.StatusCode != http.StatusOK || string(body) != want {
		t.Fatalf("allmine: %d %s, want 200 %s", resp.StatusCode, body, want)
	}

	var acc struct{ Balance string }
	if status, err := c.do(context.Background(), http.MethodGet, "/v1/accounts/allmine:bob", nil, &acc); err != nil || status != http.StatusOK || acc.Balance != "25.00" {
		t.Fatalf("native account bob: %d %v %+v", status, err, acc)
	}

	// Stopped, the ledger's journal passes `ledger audit`.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("serve exited: %v\n%s", err, p.stderr)
	}
	if out := mustRun(t, "audit", "--data-dir", dir); !strings.Contains(out, "PASSED") {
		t.Fatalf("audit:\n%s", out)
	}
}

// A scale that is not a number stops serve with a message naming the
// variable, rather than serving another asset than the operator asked.
func TestServeCompatAllmineBadScale(t *testing.T) {
	t.Setenv("LEDGER_COMPAT_ALLMINE_SCALE", "two")
	p := launch(t, t.TempDir(), "--compat", "allmine="+freeAddr(t))
	if err := p.wait(t, 60*time.Second); err == nil {
		t.Fatal("serve with LEDGER_COMPAT_ALLMINE_SCALE=two exited 0")
	}
	if !strings.Contains(p.stderr.String(), `LEDGER_COMPAT_ALLMINE_SCALE="two"`) {
		t.Fatalf("stderr does not name the variable:\n%s", p.stderr)
	}
}
