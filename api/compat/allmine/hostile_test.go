package allmine_test

import (
	"net/http"
	"strings"
	"testing"
)

// Malformed and hostile bodies from a funded user with a valid token, and
// unknown paths and methods, are 4xx in the envelope, never a 5xx (f.do
// fails the test on one); nothing moves.
func TestHostileBodies(t *testing.T) {
	f := start(t)
	f.openUser(t, "alice", "100")
	f.openUser(t, "bob", "")
	alice, fresh := f.token(t, "alice"), f.token(t, "fresh")

	deep := `{"recipientId":"bob","x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`
	for _, tc := range []struct {
		name, body string
		status     int
		detail     string
	}{
		{"empty", ``, 400, "empty body"},
		{"whitespace", "  \n", 400, "empty body"},
		{"not JSON", `recipientId=bob&amount=5`, 400, "malformed JSON body"},
		{"array", `[{"recipientId":"bob","amount":5}]`, 400, "must be a JSON object"},
		{"string", `"bob"`, 400, "must be a JSON object"},
		{"number", `5`, 400, "must be a JSON object"},
		{"null", `null`, 400, "must be a JSON object"},
		{"truncated", `{"recipientId":"bob","amount":5`, 400, "malformed JSON body"},
		{"trailing object", `{"recipientId":"bob","amount":5}{"recipientId":"bob","amount":5}`, 400, "data after the object"},
		{"trailing garbage", `{"recipientId":"bob","amount":5} x`, 400, "data after the object"},
		{"duplicate amount", `{"recipientId":"bob","amount":1,"amount":99}`, 400, `key "amount" is given twice`},
		{"duplicate recipient", `{"recipientId":"carol","recipientId":"bob","amount":1}`, 400, `key "recipientId" is given twice`},
		{"keys in another case", `{"RecipientId":"bob","AMOUNT":5}`, 400, "recipientId is required"},
		{"too many keys", `{` + manyKeys(70) + `"recipientId":"bob"}`, 400, "more than 64 keys"},
		{"deep nesting, no amount", deep, 400, "amount is required"},
		{"plus sign", `{"recipientId":"bob","amount":+5}`, 400, "malformed JSON body"},
		{"leading zero", `{"recipientId":"bob","amount":05}`, 400, "malformed JSON body"},
		{"bare fraction", `{"recipientId":"bob","amount":.5}`, 400, "malformed JSON body"},
		{"trailing point", `{"recipientId":"bob","amount":5.}`, 400, "malformed JSON body"},
		{"NaN", `{"recipientId":"bob","amount":NaN}`, 400, "malformed JSON body"},
		{"Infinity", `{"recipientId":"bob","amount":Infinity}`, 400, "malformed JSON body"},
		{"hex", `{"recipientId":"bob","amount":0x10}`, 400, "malformed JSON body"},
		{"huge exponent", `{"recipientId":"bob","amount":1e999999999}`, 400, "without exponent"},
		{"tiny exponent", `{"recipientId":"bob","amount":1e-999999999}`, 400, "without exponent"},
		{"amount as a quoted number", `{"recipientId":"bob","amount":"5.00"}`, 400, "amount must be a number"},
		{"amount an array", `{"recipientId":"bob","amount":[5]}`, 400, "amount must be a number"},
		{"invalid UTF-8 recipient", "{\"recipientId\":\"b\xffob\",\"amount\":5}", 400, "cannot be a user of allmine"},
		{"control character recipient", `{"recipientId":"bob\u0000","amount":5}`, 400, "cannot be a user of allmine"},
		{"path in recipient", `{"recipientId":"../bob","amount":5}`, 400, "cannot be a user of allmine"},
		{"other system's account", `{"recipientId":"mercury:bob","amount":5}`, 404, "has no Allmine account"},
		{"world", `{"recipientId":"world","amount":5}`, 404, "has no Allmine account"},
		{"body over the limit", `{"recipientId":"bob","amount":5,"pad":"` + strings.Repeat("x", 17<<10) + `"}`, 413, "exceeds 16384 bytes"},
		{"long number over the limit", `{"recipientId":"bob","amount":` + strings.Repeat("9", 20<<10) + `}`, 413, "exceeds 16384 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, tok := range []string{alice, fresh} {
				status, body := f.post(t, tok, tc.body)
				if tok == fresh && tc.status == 404 {
					// A well-formed request opens the sender's account,
					// then the ledger refuses the missing recipient.
					wantEnvelope(t, tc.name, status, body, 404, tc.detail)
					continue
				}
				wantEnvelope(t, tc.name, status, body, tc.status, tc.detail)
			}
		})
	}
	// Unknown paths and methods, with a body a transfer would take, are
	// 404 or 405 in the envelope.
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/api/v1/messages"},
		{http.MethodPost, "/API/V1/MESSAGES/CREDIT-TRANSFER"},
		{http.MethodPut, path},
		{http.MethodPatch, path},
		{http.MethodGet, "/api/v1/users/me"},
		{http.MethodPost, "/api/v1/messages/credit-transfer/../credit-transfer/x"},
	} {
		status, body := f.do(t, tc.method, tc.path, alice, transferBody("bob", "5"))
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s: %d %s", tc.method, tc.path, status, body)
		}
		wantEnvelope(t, tc.method+" "+tc.path, status, body, status, "")
	}
	if a, b := f.balance(t, "alice"), f.balance(t, "bob"); a != "100.00" || b != "0.00" {
		t.Fatalf("balances alice %s bob %s", a, b)
	}
	// Only the well-formed requests (to recipients that do not exist)
	// opened fresh's account; what could not be read opened nothing.
	if b := f.balance(t, "fresh"); b != "0.00" {
		t.Fatalf("fresh: %q", b)
	}
	f.l.Audit(t)
}

// An unreadable request from a new user opens no account.
func TestUnreadableRequestOpensNothing(t *testing.T) {
	f := start(t)
	f.openUser(t, "bob", "")
	for _, body := range []string{`{`, `{"recipientId":"bob","amount":1.001}`, `{"recipientId":"bob","amount":-1}`, `{"recipientId":"b b","amount":1}`} {
		status, data := f.post(t, f.token(t, "stranger"), body)
		wantEnvelope(t, body, status, data, 400, "")
	}
	if b := f.balance(t, "stranger"); b != "" {
		t.Fatalf("stranger's account was opened (balance %s)", b)
	}
	f.l.Audit(t)
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`"k`)
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(`":1,`)
	}
	return b.String()
}
