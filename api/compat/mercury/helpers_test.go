package mercury_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/api/compat/mercury"
	"github.com/nats-ledger/ledger/internal/ledgertest"
	"github.com/nats-ledger/ledger/projections"
)

// env is a real ledger with the Mercury adapter on its own loopback
// listener.
type env struct {
	l    *ledgertest.Ledger
	base string
}

func start(t *testing.T) *env {
	t.Helper()
	l := ledgertest.Start(t)
	a := mercury.New(l.Node.Core, compat.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &env{l: l, base: l.Serve(t, a.Handler())}
}

// reply is an adapter's answer.
type reply struct {
	status      int
	contentType string
	body        string
}

// send makes a raw request to the adapter with no Content-Type, as the
// real client (fetch with a string body) does not set one either.
func (e *env) send(t *testing.T, method, path, body string, header ...string) reply {
	t.Helper()
	r := ledgertest.Do(t, method, e.base+path, body, header...)
	return reply{r.Status, r.Header.Get("Content-Type"), string(r.Body)}
}

// transact posts a body and fails unless the answer is 200 with an empty
// body.
func (e *env) transact(t *testing.T, body string) {
	t.Helper()
	if r := e.send(t, http.MethodPost, "/transact", body); r.status != http.StatusOK || r.body != "" {
		t.Fatalf("POST /transact %s: %d %q", body, r.status, r.body)
	}
}

// mustFail posts a body and fails unless the answer is 400 text/plain
// with exactly msg.
func (e *env) mustFail(t *testing.T, body, msg string) {
	t.Helper()
	r := e.send(t, http.MethodPost, "/transact", body)
	if r.status != http.StatusBadRequest || !strings.HasPrefix(r.contentType, "text/plain") || strings.TrimSuffix(r.body, "\n") != msg {
		t.Fatalf("POST /transact %s: %d %s %q; want 400 text/plain %q", body, r.status, r.contentType, r.body, msg)
	}
}

// history is GET /transactions/{user}, each transaction as its raw keys.
func (e *env) history(t *testing.T, user string) []map[string]json.RawMessage {
	t.Helper()
	r := e.send(t, http.MethodGet, "/transactions/"+url.PathEscape(user), "")
	if r.status != http.StatusOK || r.contentType != "application/json" {
		t.Fatalf("GET /transactions/%s: %d %s %s", user, r.status, r.contentType, r.body)
	}
	var out []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.body), &out); err != nil || out == nil {
		t.Fatalf("GET /transactions/%s: %q is not an array: %v", user, r.body, err)
	}
	return out
}

// fund opens a Mercury user's account natively, as an operator does
// before its first mint, and mints amount (units) with the reference.
func (e *env) fund(t *testing.T, user, amount, reference string) {
	t.Helper()
	if s, body := e.l.Native(t, http.MethodPost, "/v1/assets", map[string]any{"code": "MERCURY", "scale": 6}); s != http.StatusCreated && s != http.StatusOK {
		t.Fatalf("define MERCURY: %d %s", s, body)
	}
	id := "mercury:" + user
	// Open it unless the adapter already has. (A read sees every write
	// answered before it; POST /v1/accounts of an existing account may
	// answer 404 while the read model catches up, as documented.)
	if s, _ := e.l.Native(t, http.MethodGet, "/v1/accounts/"+id, nil); s == http.StatusNotFound {
		e.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/accounts", map[string]any{"id": id, "asset": "MERCURY", "owner": id})
	}
	e.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/transfers",
		map[string]any{"id": "mint-" + user + "-" + reference, "from": "world", "to": id, "amount": amount, "asset": "MERCURY", "reference": reference})
}

// balance is a Mercury user's native balance.
func (e *env) balance(t *testing.T, user string) string {
	t.Helper()
	var v projections.AccountView
	if err := json.Unmarshal(e.l.Must(t, http.StatusOK, http.MethodGet, "/v1/accounts/mercury:"+user, nil), &v); err != nil {
		t.Fatal(err)
	}
	return v.Balance
}

// posted is the number of posted native transfers (at most 100: the
// tests stay below).
func (e *env) posted(t *testing.T) int {
	t.Helper()
	var page projections.Page[projections.TransferView]
	if err := json.Unmarshal(e.l.Must(t, http.StatusOK, http.MethodGet, "/v1/transfers?limit=100", nil), &page); err != nil {
		t.Fatal(err)
	}
	return len(page.Data)
}

// nativeTransfer reads one native transfer.
func (e *env) nativeTransfer(t *testing.T, id string) projections.TransferView {
	t.Helper()
	var v projections.TransferView
	if err := json.Unmarshal(e.l.Must(t, http.StatusOK, http.MethodGet, "/v1/transfers/"+id, nil), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a string", raw)
	}
	return s
}

func keys(m map[string]json.RawMessage) string {
	var ks []string
	for _, k := range []string{"Type", "Id", "Time", "From", "To", "Amount", "Note", "Link", "Returns"} {
		if _, ok := m[k]; ok {
			ks = append(ks, k)
		}
	}
	if len(ks) != len(m) {
		return "unexpected keys"
	}
	return strings.Join(ks, ",")
}
