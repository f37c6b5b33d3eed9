package corebanq_test

import (
	"net/http"
	"strings"
	"testing"
)

// Every refusal is CoreBanq's {"code","message"} with its status, and
// moves nothing.
func TestTransferErrors(t *testing.T) {
	f := setup(t)
	readOnly := f.l.Token(t, "alice", "accounts:read")
	valid := func(extra string) string {
		return `{"destination_ledger_id":"` + bobLedger + `","amount":100,"transaction_id":"k-1"` + extra + `}`
	}
	path := "/v1/ledgers/" + aliceLedger + "/transfer"
	for _, c := range []struct {
		name, path, token, body string
		status                  int
		code, inMessage         string
	}{
		{"no token", path, "", valid(""), 401, "auth.unauthorized", "bearer token"},
		{"bad token", path, "not-a-token", valid(""), 401, "auth.unauthorized", "invalid"},
		{"token too long", path, strings.Repeat("x", 9000), valid(""), 401, "auth.unauthorized", "invalid"},
		{"no transfers:write", path, readOnly, valid(""), 403, "auth.forbidden", "transfers:write"},
		{"someone else's ledger", path, f.bob, valid(""), 403, "auth.forbidden", aliceLedger},
		{"unknown source", "/v1/ledgers/" + unknownLedger + "/transfer", f.alice, valid(""), 404, "ledger.not_found", unknownLedger},
		{"unknown destination", path, f.alice, `{"destination_ledger_id":"` + unknownLedger + `","amount":1,"transaction_id":"k"}`,
			404, "ledger.not_found", unknownLedger},
		{"insufficient funds", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":10001,"transaction_id":"k"}`,
			422, "ledger.insufficient_funds", "balance was 10000, at least 10001 is required"},
		{"other currency", path, f.alice, `{"destination_ledger_id":"` + carolLedger + `","amount":1,"transaction_id":"k"}`,
			422, "ledger.currency_mismatch", carolLedger},
		{"source is destination", path, f.alice, `{"destination_ledger_id":"` + aliceLedger + `","amount":1,"transaction_id":"k"}`,
			400, "request.invalid", "destination_ledger_id"},
		{"path not a UUID", "/v1/ledgers/alice/transfer", f.alice, valid(""), 400, "request.invalid", "UUID"},
		{"destination not a UUID", path, f.alice, `{"destination_ledger_id":"bob","amount":1,"transaction_id":"k"}`,
			400, "request.invalid", "destination_ledger_id"},
		{"destination missing", path, f.alice, `{"amount":1,"transaction_id":"k"}`, 400, "request.invalid", "destination_ledger_id is required"},
		{"destination a number", path, f.alice, `{"destination_ledger_id":5,"amount":1,"transaction_id":"k"}`,
			400, "request.invalid", "destination_ledger_id"},
		{"amount missing", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","transaction_id":"k"}`, 400, "request.invalid", "amount is required"},
		{"amount null", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":null,"transaction_id":"k"}`, 400, "request.invalid", "amount"},
		{"amount zero", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":0,"transaction_id":"k"}`, 400, "request.invalid", "positive integer"},
		{"amount negative", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":-5,"transaction_id":"k"}`, 400, "request.invalid", "positive integer"},
		{"amount fractional", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":1.5,"transaction_id":"k"}`, 400, "request.invalid", "positive integer"},
		{"amount 1.0", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":1.0,"transaction_id":"k"}`, 400, "request.invalid", "positive integer"},
		{"amount exponent", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":1e2,"transaction_id":"k"}`, 400, "request.invalid", "positive integer"},
		{"amount a string", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":"100","transaction_id":"k"}`, 400, "request.invalid", "positive integer"},
		{"amount past int64", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":9223372036854775808,"transaction_id":"k"}`,
			400, "request.invalid", "at most 9223372036854775807"},
		{"transaction_id missing", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":1}`, 400, "request.invalid", "transaction_id is required"},
		{"transaction_id empty", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":1,"transaction_id":""}`, 400, "request.invalid", "transaction_id is required"},
		{"transaction_id a number", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":1,"transaction_id":7}`, 400, "request.invalid", "transaction_id"},
		{"transaction_id too long", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":1,"transaction_id":"` + strings.Repeat("k", 256) + `"}`,
			400, "request.invalid", "transaction_id"},
		{"transaction_id control character", path, f.alice, `{"destination_ledger_id":"` + bobLedger + `","amount":1,"transaction_id":"a\nb"}`,
			400, "request.invalid", "transaction_id"},
		{"description too long", path, f.alice, valid(`,"description":"` + strings.Repeat("d", 513) + `"`), 400, "request.invalid", "description"},
		{"description an object", path, f.alice, valid(`,"description":{}`), 400, "request.invalid", "description"},
		{"metadata not strings", path, f.alice, valid(`,"metadata":{"n":5}`), 400, "request.invalid", "metadata"},
		{"metadata an array", path, f.alice, valid(`,"metadata":[]`), 400, "request.invalid", "metadata"},
		{"metadata reserved key", path, f.alice, valid(`,"metadata":{"corebanq.created_by":"mallory"}`), 400, "request.invalid", "reserved"},
		{"metadata value too long", path, f.alice, valid(`,"metadata":{"k":"` + strings.Repeat("v", 513) + `"}`), 400, "request.invalid", "metadata"},
		{"unknown path", "/v1/transfers", f.alice, valid(""), 404, "request.not_found", "/v1/transfers"},
		{"wrong method", "/v1/ledgers/" + aliceLedger, f.alice, valid(""), 405, "request.method_not_allowed", "GET"},
	} {
		method := http.MethodPost
		status, data := f.do(t, method, c.path, c.token, c.body)
		msg := wantError(t, c.name, status, data, c.status, c.code)
		if !strings.Contains(msg, c.inMessage) {
			t.Errorf("%s: message %q does not contain %q", c.name, msg, c.inMessage)
		}
	}
	f.wantUnmoved(t)
	f.l.Audit(t)
}
