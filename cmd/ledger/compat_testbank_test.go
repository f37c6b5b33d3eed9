package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api/compat/testbank"
)

// testbankDo sends a JSON:API request with a Testbank token.
func testbankDo(t *testing.T, base, token, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// TestServeCompatTestbank: a user made with `ledger testbank user create
// --root` against a running ledger opens an account and credits it from
// ROOT through `serve --compat testbank`, visible natively; after a
// restart its token and account are still there.
func TestServeCompatTestbank(t *testing.T) {
	dir := t.TempDir()
	natsAddr := freeAddr(t)
	_, natsPort, _ := net.SplitHostPort(natsAddr)
	tbAddr := freeAddr(t)
	p := startLedger(t, dir, "--nats-listen", natsPort, "--compat", "testbank="+tbAddr)
	base := "http://" + tbAddr
	out, stderr, status := runCLI(t, dir, "testbank", "user", "create", "--name", "Alice", "--root",
		"--nats-url", "nats://"+natsAddr, "--data-dir", dir)
	if status != 0 {
		t.Fatalf("testbank user create: %d %s", status, stderr)
	}
	var u testbank.NewUser
	if err := json.Unmarshal([]byte(out), &u); err != nil || len(u.Token) != testbank.TokenLen || !u.Root {
		t.Fatalf("user %s: %v", out, err)
	}
	code, body := testbankDo(t, base, u.Token, http.MethodPost, "/accounts",
		`{"data":{"type":"accounts","attributes":{"name":"Main"},"relationships":{"currency":{"data":{"type":"currencies","id":"GBP"}}}}}`)
	var acc struct{ Data struct{ ID string } }
	if code != http.StatusOK || json.Unmarshal(body, &acc) != nil {
		t.Fatalf("create account: %d %s", code, body)
	}
	code, body = testbankDo(t, base, u.Token, http.MethodPost, "/transactions",
		`{"data":{"type":"transactions","attributes":{"amount":"12.34","reference":"hello"},"relationships":{`+
			`"sender":{"data":{"type":"accounts","id":"ROOT"}},"recipient":{"data":{"type":"accounts","id":"`+acc.Data.ID+`"}}}}}`)
	if code != http.StatusOK {
		t.Fatalf("credit: %d %s", code, body)
	}
	var native struct{ Balance, Owner string }
	c := newClient(p.url)
	if _, err := c.do(t.Context(), http.MethodGet, "/v1/accounts/testbank:"+acc.Data.ID, nil, &native); err != nil ||
		native.Balance != "12.34" || native.Owner != "testbank-user:"+u.ID {
		t.Fatalf("native account: %+v %v", native, err)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 60*time.Second); err != nil {
		t.Fatalf("ledger exit: %v", err)
	}
	startLedger(t, dir, "--compat", "testbank="+tbAddr)
	code, body = testbankDo(t, base, u.Token, http.MethodGet, "/accounts/"+acc.Data.ID, "")
	if code != http.StatusOK || !strings.Contains(string(body), `"balanceTotal":"12.34"`) {
		t.Fatalf("after restart: %d %s", code, body)
	}
}
