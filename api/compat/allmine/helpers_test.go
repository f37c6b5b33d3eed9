package allmine_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/api/compat/allmine"
	"github.com/nats-ledger/ledger/internal/ledgertest"
)

const path = "/api/v1/messages/credit-transfer"

// The seed's example users.
const (
	seedSender    = "64d15f9e2e6c8f4d5a123456"
	seedRecipient = "64d15f9e2e6c8f4d5a654321"
)

// fixture is a real ledger with the Allmine adapter on its own listener.
type fixture struct {
	l   *ledgertest.Ledger
	url string
}

func start(t *testing.T) *fixture {
	t.Helper()
	l := ledgertest.Start(t)
	h, err := allmine.New(l.Node.Core, compat.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{l: l, url: l.Serve(t, h)}
}

// token is a native token for an Allmine user allowed to transfer.
func (f *fixture) token(t *testing.T, user string) string {
	return f.l.Token(t, user, "transfers:write")
}

// openUser opens an Allmine user's account as an operator does, owned by
// the user, and funds it with amount (if not empty).
func (f *fixture) openUser(t *testing.T, user, amount string) {
	t.Helper()
	if status, body := f.l.Native(t, http.MethodPost, "/v1/assets", map[string]any{"code": "ALLMINE", "scale": 2}); status != http.StatusCreated && status != http.StatusOK {
		t.Fatalf("define ALLMINE: %d %s", status, body)
	}
	f.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/accounts",
		map[string]any{"id": "allmine:" + user, "asset": "ALLMINE", "owner": user})
	if amount != "" {
		f.l.Mint(t, "allmine:"+user, "ALLMINE", amount)
	}
}

// balance reads a user's balance through the native API ("" if the user
// has no account).
func (f *fixture) balance(t *testing.T, user string) string {
	t.Helper()
	status, body := f.l.Native(t, http.MethodGet, "/v1/accounts/allmine:"+user, nil)
	if status == http.StatusNotFound {
		return ""
	}
	if status != http.StatusOK {
		t.Fatalf("account %s: %d %s", user, status, body)
	}
	var v struct {
		Balance string `json:"balance"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Balance
}

// post sends a credit transfer with a raw body; headers are name, value
// pairs. A token "" sends no Authorization.
func (f *fixture) post(t *testing.T, token, body string, headers ...string) (int, []byte) {
	t.Helper()
	return f.do(t, http.MethodPost, path, token, body, headers...)
}

func (f *fixture) do(t *testing.T, method, p, token, body string, headers ...string) (int, []byte) {
	t.Helper()
	status, data, err := f.try(method, p, token, body, headers...)
	if err != nil {
		t.Fatal(err)
	}
	return status, data
}

// try is do for other goroutines than the test's: it reports instead of
// failing the test.
func (f *fixture) try(method, p, token, body string, headers ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, f.url+p, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode >= 500 {
		return 0, nil, fmt.Errorf("%s %s %q: %d %s", method, p, body, resp.StatusCode, data)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return 0, nil, fmt.Errorf("%s %s: Content-Type %q", method, p, ct)
	}
	return resp.StatusCode, data, nil
}

func transferBody(recipient string, amount string) string {
	return fmt.Sprintf(`{"recipientId":%q,"amount":%s}`, recipient, amount)
}

// timestampRE is ISO 8601 UTC with milliseconds, as the seed's timestamps.
var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// messages are errors[0] per status: the seed's, and the adapter's own
// for the statuses the seed does not show.
var messages = map[int]string{
	400: "Validation failed",
	401: "Authentication required",
	403: "Insufficient permissions",
	404: "Resource not found",
	409: "Resource already exists or cannot be changed in its current state",
	405: "Method not allowed",
	413: "Payload too large",
	503: "Service unavailable",
}

// wantEnvelope checks an error answer: exactly the seed's envelope, the
// seed's message first, then a specific message containing detail.
func wantEnvelope(t *testing.T, what string, gotStatus int, body []byte, status int, detail string) {
	t.Helper()
	if gotStatus != status {
		t.Fatalf("%s: status %d %s, want %d", what, gotStatus, body, status)
	}
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s: %v: %s", what, err, body)
	}
	ts, _ := env["timestamp"].(string)
	if !timestampRE.MatchString(ts) {
		t.Fatalf("%s: timestamp %q", what, ts)
	}
	errs, _ := env["errors"].([]any)
	want := map[string]any{"isSuccess": false, "statusCode": float64(status), "data": nil, "errors": errs, "timestamp": ts}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("%s: envelope %s", what, body)
	}
	msg := messages[status]
	if len(errs) != 2 || errs[0] != msg {
		t.Fatalf("%s: errors %v, want [%q, ...]", what, errs, msg)
	}
	if d, _ := errs[1].(string); !strings.Contains(d, detail) {
		t.Fatalf("%s: errors[1] %q does not say %q", what, d, detail)
	}
}
