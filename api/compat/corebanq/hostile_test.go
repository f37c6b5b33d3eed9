package corebanq_test

import (
	"net/http"
	"strings"
	"testing"
)

// No body, however malformed, gets a 5xx or moves money: each is a 4xx in
// CoreBanq's shape.
func TestHostileBodies(t *testing.T) {
	f := setup(t)
	dest := `"destination_ledger_id":"` + bobLedger + `"`
	manyKeys := make([]string, 31)
	for i := range manyKeys {
		manyKeys[i] = `"k` + strings.Repeat("x", i) + `":"v"`
	}
	bodies := map[string]string{
		"empty":              "",
		"truncated":          `{` + dest,
		"array":              `[]`,
		"null":               `null`,
		"number":             `5`,
		"string":             `"transfer"`,
		"two objects":        `{` + dest + `,"amount":1,"transaction_id":"a"}{}`,
		"trailing garbage":   `{` + dest + `,"amount":1,"transaction_id":"a"} x`,
		"deep nesting":       `{"metadata":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`,
		"huge":               `{"description":"` + strings.Repeat("x", 300<<10) + `"}`,
		"invalid UTF-8":      `{` + dest + `,"amount":1,"transaction_id":"` + "\xff\xfe" + `"}`,
		"amount an object":   `{` + dest + `,"amount":{},"transaction_id":"a"}`,
		"amount huge":        `{` + dest + `,"amount":1e400,"transaction_id":"a"}`,
		"amount 400 digits":  `{` + dest + `,"amount":` + strings.Repeat("9", 400) + `,"transaction_id":"a"}`,
		"amount true":        `{` + dest + `,"amount":true,"transaction_id":"a"}`,
		"metadata nested":    `{` + dest + `,"amount":1,"transaction_id":"a","metadata":{"k":{"x":"y"}}}`,
		"metadata 31 keys":   `{` + dest + `,"amount":1,"transaction_id":"a","metadata":{` + strings.Join(manyKeys, ",") + `}}`,
		"metadata empty key": `{` + dest + `,"amount":1,"transaction_id":"a","metadata":{"":"v"}}`,
		"only unknown":       `{"from":"` + aliceLedger + `","to":"` + bobLedger + `","value":100}`,
		"NUL in id":          `{"destination_ledger_id":"` + bobLedger + `\u0000","amount":1,"transaction_id":"a"}`,
		"path traversal id":  `{"destination_ledger_id":"../../world","amount":1,"transaction_id":"a"}`,
	}
	for name, body := range bodies {
		status, data := f.do(t, http.MethodPost, "/v1/ledgers/"+aliceLedger+"/transfer", f.alice, body)
		if status < 400 || status >= 500 {
			t.Errorf("%s: %d %.200s, want a 4xx", name, status, data)
			continue
		}
		want := http.StatusBadRequest
		if name == "huge" {
			want = http.StatusRequestEntityTooLarge
		}
		code := "request.invalid"
		if want == http.StatusRequestEntityTooLarge {
			code = "request.too_large"
		}
		wantError(t, name, status, data, want, code)
	}
	// Hostile paths: never a 5xx, never a move.
	for _, p := range []string{
		"/v1/ledgers/" + aliceLedger + "%2F..%2Fworld/transfer",
		"/v1/ledgers//transfer",
		"/v1/ledgers/world/transfer",
		"/v1/ledgers/" + strings.Repeat("a", 5000) + "/transfer",
	} {
		status, data := f.do(t, http.MethodPost, p, f.alice, `{"destination_ledger_id":"`+bobLedger+`","amount":1,"transaction_id":"p"}`)
		if status < 300 || status >= 500 {
			t.Errorf("POST %s: %d %s, want a refusal", p, status, data)
		}
	}
	f.wantUnmoved(t)
	f.l.Audit(t)
}

// A client that sends no Content-Type, and fields CoreBanq's documentation
// does not list, is served: unknown fields are ignored.
func TestLenientTransport(t *testing.T) {
	f := setup(t)
	req, err := http.NewRequest(http.MethodPost, f.url+"/v1/ledgers/"+aliceLedger+"/transfer", strings.NewReader(
		`{"destination_ledger_id":"`+bobLedger+`","amount":5,"transaction_id":"lenient","currency":"EUR","channel":"app"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "bearer "+f.alice)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if b := f.nativeBalance(t, bobLedger); b != "0.05" {
		t.Errorf("bob %s", b)
	}
}
