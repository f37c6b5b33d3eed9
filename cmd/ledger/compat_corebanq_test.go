package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// `ledger serve --compat corebanq=ADDR` serves CoreBanq's API on its own
// listener: a ledger owner's token (from `ledger token create`) moves
// money between two CoreBanq ledgers, and the native API sees it.
func TestServeCompatCoreBanq(t *testing.T) {
	const alice, bob = "0b8f2f43-6a0e-4c1d-9a61-1f2d3c4b5a69", "5d2c7e10-3b4a-4f8e-8c7d-6e5f4a3b2c1d"
	dir := t.TempDir()
	compatAddr := freeAddr(t)
	p := startLedger(t, dir, "--compat", "corebanq="+compatAddr)
	c := newClient(p.url)
	c.must(t, http.MethodPost, "/v1/assets", map[string]any{"code": "EUR", "scale": 2}, http.StatusCreated)
	for _, a := range [][2]string{{alice, "alice"}, {bob, "bob"}} {
		c.must(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "corebanq:" + a[0], "asset": "EUR", "owner": a[1]}, http.StatusCreated)
	}
	c.must(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "world", "to": "corebanq:" + alice, "amount": "10.00"}, http.StatusCreated)
	token, stderr, status := runCLI(t, dir, "token", "create", "--data-dir", dir, "--sub", "alice", "--scope", "transfers:write")
	if status != 0 {
		t.Fatalf("token create: exit %d\n%s", status, stderr)
	}

	req, err := http.NewRequest(http.MethodPost, "http://"+compatAddr+"/v1/ledgers/"+alice+"/transfer",
		strings.NewReader(`{"destination_ledger_id":"`+bob+`","amount":250,"transaction_id":"3c90c3cc-0d44-4b50-8888-8dd25736052a"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var res struct {
		SourceEntry struct {
			Balance json.Number `json:"balance"`
		} `json:"source_entry"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(data, &res) != nil || res.SourceEntry.Balance != "750" {
		t.Fatalf("CoreBanq transfer: %d %s", resp.StatusCode, data)
	}
	var acc struct{ Balance string }
	if _, err := c.do(t.Context(), http.MethodGet, "/v1/accounts/corebanq:"+bob, nil, &acc); err != nil || acc.Balance != "2.50" {
		t.Fatalf("native balance of bob's ledger: %q, %v", acc.Balance, err)
	}
}
