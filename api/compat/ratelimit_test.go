package compat_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/api/compat/allmine"
	"github.com/nats-ledger/ledger/api/compat/corebanq"
	"github.com/nats-ledger/ledger/api/compat/mercury"
	"github.com/nats-ledger/ledger/internal/ledgertest"
	"github.com/nats-ledger/ledger/node"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// The native per-token rate limit holds through the adapters too: a
// caller's budget is one, whichever listener it comes through, and a
// request over it is the system's own 429, with Retry-After, moving
// nothing. (Mixin's is tested with its signed tokens in its package.)
func TestAdaptersShareTheRateLimit(t *testing.T) {
	l := ledgertest.StartWith(t, func(c *node.Config) { c.RateLimit = 0.01 }) // a burst of 1, then one per 100 s
	post := func(t *testing.T, url, token, body string) (int, http.Header, string) {
		t.Helper()
		var header []string
		if token != "" {
			header = []string{"Authorization", "Bearer " + token}
		}
		r := ledgertest.Do(t, http.MethodPost, url, body, header...)
		return r.Status, r.Header, string(bytes.TrimSpace(r.Body))
	}
	wantLimited := func(t *testing.T, status int, h http.Header, body, want string) {
		t.Helper()
		if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(body, want) {
			t.Fatalf("over the budget: %d (Retry-After %q) %s, want 429 with %q", status, h.Get("Retry-After"), body, want)
		}
	}

	t.Run("mercury", func(t *testing.T) {
		url := l.Serve(t, mercury.New(l.Node.Core, compat.Options{}, quiet).Handler()) + "/transact"
		body := `{"From":"alice","To":"bob","Amount":0,"Note":"free","Returns":{"item":1}}`
		if status, _, out := post(t, url, "", body); status != http.StatusOK {
			t.Fatalf("first: %d %s", status, out)
		}
		status, h, out := post(t, url, "", body)
		wantLimited(t, status, h, out, "too many transactions from alice")
		// Another user has a budget of their own.
		if status, _, out := post(t, url, "", strings.Replace(body, "alice", "carol", 1)); status != http.StatusOK {
			t.Fatalf("another user: %d %s", status, out)
		}
	})
	t.Run("allmine", func(t *testing.T) {
		h, err := allmine.New(l.Node.Core, compat.Options{}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		url := l.Serve(t, h) + "/api/v1/messages/credit-transfer"
		tok := l.Token(t, "u1", api.ScopeTransfersWrite)
		if status, _, out := post(t, url, tok, `{"recipientId":"nobody","amount":1}`); status != http.StatusNotFound {
			t.Fatalf("first: %d %s", status, out)
		}
		status, hd, out := post(t, url, tok, `{"recipientId":"nobody","amount":1}`)
		wantLimited(t, status, hd, out, `"statusCode":429`)
	})
	t.Run("corebanq", func(t *testing.T) {
		url := l.Serve(t, corebanq.New(l.Node.Core, quiet)) + "/v1/ledgers/0b8f2f43-6a0e-4c1d-9a61-1f2d3c4b5a69/transfer"
		tok := l.Token(t, "u2", api.ScopeTransfersWrite)
		body := `{"destination_ledger_id":"5d2c7e10-3b4a-4f8e-8c7d-6e5f4a3b2c1d","amount":1,"transaction_id":"k1"}`
		if status, _, out := post(t, url, tok, body); status == http.StatusTooManyRequests {
			t.Fatalf("first: %d %s", status, out)
		}
		status, h, out := post(t, url, tok, body)
		wantLimited(t, status, h, out, `"code":"request.rate_limited"`)
	})
	// The native API counts against the same budget: u1 spent it above.
	status, _ := l.NativeAs(t, l.Token(t, "u1", api.ScopeAccountsRead), http.MethodGet, "/v1/accounts/allmine:u1")
	if status != http.StatusTooManyRequests {
		t.Fatalf("the native API after the adapter spent the budget: %d", status)
	}
	l.Audit(t)
}
