package testbank_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/nats-ledger/ledger/api/compat/testbank"
	"github.com/nats-ledger/ledger/infra/testbankstore"
	"github.com/nats-ledger/ledger/internal/ledgertest"
)

// env is a ledger with the Testbank adapter on its own loopback listener.
type env struct {
	l   *ledgertest.Ledger
	url string
}

func start(t *testing.T) *env {
	t.Helper()
	l := ledgertest.Start(t)
	store, err := testbankstore.New(context.Background(), l.Node.JS, l.Node.Names, 1)
	if err != nil {
		t.Fatal(err)
	}
	return &env{l: l, url: l.Serve(t, testbank.New(l.Node.Core, testbank.Options{Store: store}))}
}

// reply is an answer of the adapter.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with a bearer token (none when empty) and a JSON:API
// body (none when empty), and the extra headers in pairs.
func (e *env) do(t *testing.T, token, method, path, body string, header ...string) reply {
	t.Helper()
	h := []string{"Content-Type", "application/vnd.api+json"}
	if token != "" {
		h = append(h, "Authorization", "Bearer "+token)
	}
	r := ledgertest.Do(t, method, e.url+path, body, append(h, header...)...)
	return reply{status: r.Status, header: r.Header, body: r.Body}
}

// document is a JSON:API answer.
type document struct {
	Data   json.RawMessage  `json:"data"`
	Meta   map[string]any   `json:"meta"`
	Errors []testbank.Error `json:"errors"`
}

type resource struct {
	Type          string            `json:"type"`
	ID            string            `json:"id"`
	Attributes    map[string]string `json:"attributes"`
	Relationships map[string]struct {
		Data struct{ Type, ID string }
	} `json:"relationships"`
	Meta map[string]any `json:"meta"`
}

func (r resource) rel(name string) string { return r.Relationships[name].Data.ID }

// must decodes the answer's document, failing unless the status is want
// and the media type JSON:API's.
func (r reply) must(t *testing.T, want int) document {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.api+json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var d document
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	return d
}

// one decodes a single resource answered with want.
func (r reply) one(t *testing.T, want int) resource {
	t.Helper()
	var res resource
	if err := json.Unmarshal(r.must(t, want).Data, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// many decodes a list answered 200.
func (r reply) many(t *testing.T) ([]resource, map[string]any) {
	t.Helper()
	d := r.must(t, http.StatusOK)
	var out []resource
	if err := json.Unmarshal(d.Data, &out); err != nil {
		t.Fatal(err)
	}
	return out, d.Meta
}

// fails checks a JSON:API error: its status (also as a string), code,
// and pointer or parameter when given.
func (r reply) fails(t *testing.T, status int, code, source string) testbank.Error {
	t.Helper()
	d := r.must(t, status)
	if len(d.Errors) != 1 {
		t.Fatalf("errors: %s", r.body)
	}
	e := d.Errors[0]
	if e.Status != fmt.Sprint(status) || e.Code != code || e.Title == "" || e.Detail == "" {
		t.Fatalf("error %+v, want status %q code %s", e, fmt.Sprint(status), code)
	}
	if source != "" && (e.Source == nil || e.Source.Pointer != source && e.Source.Parameter != source) {
		t.Fatalf("error source %+v, want %s", e.Source, source)
	}
	return e
}

// user is a Testbank user with its token.
type user struct {
	testbank.NewUser
}

func (e *env) newUser(t *testing.T, name string, root bool) user {
	t.Helper()
	r := e.do(t, ledgertest.AdminToken, http.MethodPost, "/admin/users", fmt.Sprintf(`{"name":%q,"root":%v}`, name, root))
	var d struct{ Data testbank.NewUser }
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &d) != nil || len(d.Data.Token) != testbank.TokenLen {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	return user{d.Data}
}

func accountDoc(name, visibility, currency string) string {
	vis := ""
	if visibility != "" {
		vis = fmt.Sprintf(`,"visibility":%q`, visibility)
	}
	return fmt.Sprintf(`{"data":{"type":"accounts","attributes":{"name":%q%s},"relationships":{"currency":{"data":{"type":"currencies","id":%q}}}}}`,
		name, vis, currency)
}

func (e *env) newAccount(t *testing.T, u user, name, visibility, currency string) resource {
	t.Helper()
	return e.do(t, u.Token, http.MethodPost, "/accounts", accountDoc(name, visibility, currency)).one(t, http.StatusOK)
}

func txDoc(amount, reference, sender, recipient string) string {
	return fmt.Sprintf(`{"data":{"type":"transactions","attributes":{"amount":%q,"reference":%q},`+
		`"relationships":{"sender":{"data":{"type":"accounts","id":%q}},"recipient":{"data":{"type":"accounts","id":%q}}}}}`,
		amount, reference, sender, recipient)
}

// send posts a transaction and returns the answer.
func (e *env) send(t *testing.T, u user, amount, reference, sender, recipient string) reply {
	t.Helper()
	return e.do(t, u.Token, http.MethodPost, "/transactions", txDoc(amount, reference, sender, recipient))
}

// balance is an account's meta.balanceTotal as its owner reads it.
func (e *env) balance(t *testing.T, u user, id string) string {
	t.Helper()
	return fmt.Sprint(e.do(t, u.Token, http.MethodGet, "/accounts/"+id, "").one(t, http.StatusOK).Meta["balanceTotal"])
}

// setRate sets a native rate, as an operator does.
func (e *env) setRate(t *testing.T, base, quote, rate string) {
	t.Helper()
	e.l.Must(t, http.StatusOK, http.MethodPut, "/v1/rates/"+base+"/"+quote, map[string]any{"rate": rate})
}
