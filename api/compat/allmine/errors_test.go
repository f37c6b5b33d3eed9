package allmine_test

import (
	"net/http"
	"strings"
	"testing"
)

// Every error the adapter answers, in the seed's envelope with the seed's
// message first and what exactly is wrong second; none moves money.
func TestErrors(t *testing.T) {
	f := start(t)
	f.openUser(t, "alice", "100")
	f.openUser(t, "bob", "")
	// carol's account was opened by an operator for another owner: the
	// alice token cannot debit it, and neither can carol's.
	f.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/accounts",
		map[string]any{"id": "allmine:carol", "asset": "ALLMINE", "owner": "someone-else"})
	// dave's account is in another asset.
	f.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/assets", map[string]any{"code": "USD", "scale": 2})
	f.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/accounts", map[string]any{"id": "allmine:dave", "asset": "USD", "owner": "dave"})

	alice := f.token(t, "alice")
	readOnly := f.l.Token(t, "alice", "transfers:read", "accounts:read")
	tampered := alice[:len(alice)-2] + map[bool]string{true: "AA", false: "BB"}[strings.HasSuffix(alice, "AA")]
	ok := transferBody("bob", "5")

	for _, tc := range []struct {
		name    string
		method  string
		path    string
		auth    string // the whole Authorization header
		body    string
		headers []string
		status  int
		detail  string
	}{
		{name: "no token", body: ok, status: 401, detail: "a bearer token is required"},
		{name: "basic auth", auth: "Basic YWxpY2U6cHc=", body: ok, status: 401, detail: "a bearer token is required"},
		{name: "empty bearer", auth: "Bearer ", body: ok, status: 401, detail: "a bearer token is required"},
		{name: "garbage token", auth: "Bearer not-a-token", body: ok, status: 401, detail: "invalid or expired"},
		{name: "tampered token", auth: "Bearer " + tampered, body: ok, status: 401, detail: "invalid or expired"},
		{name: "huge token", auth: "Bearer " + strings.Repeat("x", 9<<10), body: ok, status: 401, detail: "invalid or expired"},
		{name: "authentication before validation", body: `{`, status: 401, detail: "a bearer token is required"},
		{name: "no transfers:write scope", auth: "Bearer " + readOnly, body: ok, status: 403, detail: "lacks the transfers:write scope"},
		{name: "subject not an Allmine user", auth: "Bearer " + f.token(t, "eve@example.com"), body: ok, status: 403, detail: "not an Allmine user id"},
		{name: "sender account owned by another", auth: "Bearer " + f.token(t, "carol"), body: ok, status: 403, detail: `may debit only accounts it owns`},
		{name: "unknown recipient", body: transferBody("nobody", "5"), status: 404, detail: "recipient nobody has no Allmine account"},
		{name: "unknown path", path: "/api/v1/messages/other", body: ok, status: 404, detail: "no route POST /api/v1/messages/other"},
		{name: "root", method: http.MethodGet, path: "/", status: 404, detail: "no route GET /"},
		{name: "trailing slash", path: path + "/", body: ok, status: 404, detail: "no route"},
		{name: "GET the route", method: http.MethodGet, status: 405, detail: "use POST"},
		{name: "DELETE the route", method: http.MethodDelete, status: 405, detail: "use POST"},
		{name: "insufficient funds", body: transferBody("bob", "100.01"), status: 400,
			detail: "insufficient balance: balance was 100.00 ALLMINE, at least 100.01 ALLMINE is required"},
		{name: "self-transfer", body: transferBody("alice", "5"), status: 400, detail: `from and to are the same account "allmine:alice"`},
		{name: "recipient in another asset", body: transferBody("dave", "5"), status: 409, detail: "dave"},
		{name: "recipientId missing", body: `{"amount":5}`, status: 400, detail: "recipientId is required"},
		{name: "recipientId null", body: `{"recipientId":null,"amount":5}`, status: 400, detail: "recipientId is required"},
		{name: "recipientId empty", body: `{"recipientId":"","amount":5}`, status: 400, detail: "recipientId: is required"},
		{name: "recipientId a number", body: `{"recipientId":42,"amount":5}`, status: 400, detail: "recipientId must be a string"},
		{name: "recipientId with a space", body: transferBody("b ob", "5"), status: 400, detail: `"b ob" cannot be a user of allmine`},
		{name: "recipientId too long", body: transferBody(strings.Repeat("b", 60), "5"), status: 400, detail: "cannot be a user of allmine"},
		{name: "amount missing", body: `{"recipientId":"bob"}`, status: 400, detail: "amount is required"},
		{name: "amount null", body: `{"recipientId":"bob","amount":null}`, status: 400, detail: "amount is required"},
		{name: "amount a string", body: `{"recipientId":"bob","amount":"5"}`, status: 400, detail: "amount must be a number"},
		{name: "amount a bool", body: `{"recipientId":"bob","amount":true}`, status: 400, detail: "amount must be a number"},
		{name: "amount an object", body: `{"recipientId":"bob","amount":{"v":5}}`, status: 400, detail: "amount must be a number"},
		{name: "amount zero", body: transferBody("bob", "0"), status: 400, detail: "amount must be greater than zero"},
		{name: "amount zero with decimals", body: transferBody("bob", "0.00"), status: 400, detail: "amount must be greater than zero"},
		{name: "amount minus zero", body: transferBody("bob", "-0"), status: 400, detail: "must be positive"},
		{name: "amount negative", body: transferBody("bob", "-5"), status: 400, detail: "amount -5: must be positive"},
		{name: "amount with three decimals", body: transferBody("bob", "1.005"), status: 400, detail: "amount 1.005 has 3 decimal places; at most 2"},
		{name: "amount with trailing zero decimals", body: transferBody("bob", "1.000"), status: 400, detail: "has 3 decimal places"},
		{name: "exponent hiding decimals", body: transferBody("bob", "1e-3"), status: 400, detail: "without exponent"},
		{name: "exponent of a whole amount", body: transferBody("bob", "2.5e1"), status: 400, detail: "without exponent"},
		{name: "capital exponent", body: transferBody("bob", "1E2"), status: 400, detail: "without exponent"},
		{name: "huge amount", body: transferBody("bob", strings.Repeat("9", 40)), status: 400, detail: "too many digits"},
		{name: "long fraction", body: transferBody("bob", "1."+strings.Repeat("0", 300)+"1"), status: 400, detail: "decimal places"},
		{name: "key reused for another body", body: transferBody("bob", "6"), headers: []string{"Idempotency-Key", "k-1"}, status: 409,
			detail: "with a different body"},
		{name: "empty idempotency key", body: ok, headers: []string{"Idempotency-Key", ""}, status: 400, detail: "Idempotency-Key must not be empty"},
		{name: "long idempotency key", body: ok, headers: []string{"Idempotency-Key", strings.Repeat("k", 256)}, status: 400, detail: "at most 255 bytes"},
		{name: "text/plain", body: ok, headers: []string{"Content-Type", "text/plain"}, status: 400, detail: "Content-Type must be application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "key reused for another body" {
				if status, body := f.post(t, alice, transferBody("bob", "5"), "Idempotency-Key", "k-1"); status != 200 {
					t.Fatalf("first use of the key: %d %s", status, body)
				}
			}
			method, p := tc.method, tc.path
			if method == "" {
				method = http.MethodPost
			}
			if p == "" {
				p = path
			}
			auth := tc.auth
			if auth == "" {
				auth = "Bearer " + alice
			}
			if tc.name == "no token" || tc.name == "authentication before validation" {
				auth = ""
			}
			headers := append([]string{"Authorization", auth}, tc.headers...)
			status, body := f.do(t, method, p, "", tc.body, headers...)
			wantEnvelope(t, tc.name, status, body, tc.status, tc.detail)
		})
	}
	// Only the one transfer made to use the key moved money.
	if a, b, c := f.balance(t, "alice"), f.balance(t, "bob"), f.balance(t, "carol"); a != "95.00" || b != "5.00" || c != "0.00" {
		t.Fatalf("balances alice %s bob %s carol %s", a, b, c)
	}
	if f.balance(t, "nobody") != "" {
		t.Fatal("an unknown recipient was opened")
	}
	f.l.Audit(t)
}
