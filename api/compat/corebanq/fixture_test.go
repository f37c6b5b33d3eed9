package corebanq_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/api/compat/corebanq"
	"github.com/nats-ledger/ledger/internal/ledgertest"
)

// Ledgers of the tests: alice's and bob's in EUR (scale 2), carol's in
// JPY (scale 0).
const (
	aliceLedger = "0b8f2f43-6a0e-4c1d-9a61-1f2d3c4b5a69"
	bobLedger   = "5d2c7e10-3b4a-4f8e-8c7d-6e5f4a3b2c1d"
	carolLedger = "9e8d7c6b-5a49-4837-a261-50f4e3d2c1b0"
	// A valid UUID that no ledger has.
	unknownLedger = "11111111-2222-4333-8444-555555555555"
)

// fixture is a real ledger with the adapter on its own listener, alice's
// ledger funded with 100.00 EUR (10000 minor units).
type fixture struct {
	l   *ledgertest.Ledger
	url string
	// alice is a token of the owner of aliceLedger (transfers:write and
	// accounts:read); bob, of bobLedger's.
	alice, bob string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	l := ledgertest.Start(t)
	f := &fixture{l: l, url: l.Serve(t, corebanq.New(l.Node.Core, slog.New(slog.NewTextHandler(io.Discard, nil))))}
	l.Must(t, http.StatusCreated, http.MethodPost, "/v1/assets", map[string]any{"code": "EUR", "scale": 2})
	l.Must(t, http.StatusCreated, http.MethodPost, "/v1/assets", map[string]any{"code": "JPY", "scale": 0})
	for _, a := range []struct{ ledger, asset, owner string }{
		{aliceLedger, "EUR", "alice"}, {bobLedger, "EUR", "bob"}, {carolLedger, "JPY", "carol"},
	} {
		l.Must(t, http.StatusCreated, http.MethodPost, "/v1/accounts",
			map[string]any{"id": "corebanq:" + a.ledger, "asset": a.asset, "owner": a.owner})
	}
	l.Mint(t, "corebanq:"+aliceLedger, "EUR", "100.00")
	f.alice = l.Token(t, "alice", "transfers:write", "accounts:read")
	f.bob = l.Token(t, "bob", "transfers:write", "accounts:read")
	return f
}

// do sends a request to the adapter, as CoreBanq's clients do, and
// returns the status and the body.
func (f *fixture) do(t testing.TB, method, path, token, body string) (int, []byte) {
	t.Helper()
	var header []string
	if token != "" {
		header = append(header, "Authorization", "Bearer "+token)
	}
	if body != "" {
		header = append(header, "Content-Type", "application/json")
	}
	r := ledgertest.Do(t, method, f.url+path, body, header...)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	return r.Status, r.Body
}

// transfer posts body from ledger source with token.
func (f *fixture) transfer(t testing.TB, source, token string, body any) (int, []byte) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return f.do(t, http.MethodPost, "/v1/ledgers/"+source+"/transfer", token, string(data))
}

// mustTransfer posts body and requires 201.
func (f *fixture) mustTransfer(t testing.TB, source, token string, body any) corebanq.TransferResult {
	t.Helper()
	status, data := f.transfer(t, source, token, body)
	if status != http.StatusCreated {
		t.Fatalf("transfer: %d %s", status, data)
	}
	var res corebanq.TransferResult
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// wantError checks a CoreBanq error: the status and a body of exactly
// {"code","message"} with this code and a message.
func wantError(t testing.TB, what string, status int, data []byte, wantStatus int, wantCode string) string {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(data, &e); err != nil {
		t.Errorf("%s: body %q is not JSON: %v", what, data, err)
		return ""
	}
	msg, _ := e["message"].(string)
	if status != wantStatus || e["code"] != wantCode || msg == "" || len(e) != 2 {
		t.Errorf("%s: %d %s, want %d with code %s and a message", what, status, data, wantStatus, wantCode)
	}
	return msg
}

// nativeBalance reads an account's balance through the native API.
func (f *fixture) nativeBalance(t testing.TB, ledger string) string {
	t.Helper()
	var v struct{ Balance string }
	if err := json.Unmarshal(f.l.Must(t, http.StatusOK, http.MethodGet, "/v1/accounts/corebanq:"+ledger, nil), &v); err != nil {
		t.Fatal(err)
	}
	return v.Balance
}

// nativeTransfers counts the posted transfers of a ledger's account
// through the native API (one page: the tests make fewer than 100).
func (f *fixture) nativeTransfers(t testing.TB, ledger string) int {
	t.Helper()
	var page struct{ Data []json.RawMessage }
	data := f.l.Must(t, http.StatusOK, http.MethodGet, "/v1/transfers?account=corebanq:"+ledger+"&limit=100", nil)
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatal(err)
	}
	return len(page.Data)
}

// wantUnmoved checks that nothing moved after setup: alice still has
// 100.00, bob nothing, and alice's only transfer is the mint.
func (f *fixture) wantUnmoved(t *testing.T) {
	t.Helper()
	if a, b := f.nativeBalance(t, aliceLedger), f.nativeBalance(t, bobLedger); a != "100.00" || b != "0.00" {
		t.Errorf("balances alice %s, bob %s; want 100.00 and 0.00", a, b)
	}
	if n := f.nativeTransfers(t, aliceLedger); n != 1 {
		t.Errorf("alice's ledger has %d transfers, want only the mint", n)
	}
}

func bytesReader(b []byte) io.Reader { return strings.NewReader(string(b)) }
