package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/infra/auth"
	"github.com/nats-ledger/ledger/node"
)

// as returns a view of the ledger whose requests carry token.
func (l *e2eLedger) as(token string) *e2eLedger {
	c := *l
	c.token = token
	return &c
}

// tokenFor mints a JWT with the node's signing key.
func (l *e2eLedger) tokenFor(t *testing.T, sub string, ttl time.Duration, scopes ...string) string {
	t.Helper()
	key, err := auth.LoadKey(l.node.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.MintToken(key, sub, scopes, ttl, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var userScopes = []string{api.ScopeAccountsWrite, api.ScopeAccountsRead, api.ScopeTransfersWrite, api.ScopeTransfersRead}

func TestE2EAuthentication(t *testing.T) {
	l := e2eStart(t)
	if !l.node.KeyCreated {
		t.Fatal("a first start did not generate a signing key")
	}
	valid := l.tokenFor(t, "alice", time.Hour, userScopes...)
	otherKey, err := auth.MintToken([]byte(strings.Repeat("k", 32)), "alice", userScopes, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	unsigned := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."

	for _, tc := range []struct {
		name, header string
	}{
		{"no header", ""},
		{"not bearer", "Basic YWxpY2U6cHc="},
		{"empty bearer", "Bearer "},
		{"garbage", "Bearer not-a-token"},
		{"signed with another key", "Bearer " + otherKey},
		{"tampered claims", "Bearer " + tampered},
		{"alg none", "Bearer " + unsigned},
		{"oversized", "Bearer " + strings.Repeat("a", 9000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, route := range [][2]string{{http.MethodGet, "/v1/transfers"}, {http.MethodPost, "/v1/transfers"}, {http.MethodGet, "/v1/accounts/alice"}} {
				r := l.do(t, route[0], route[1], nil, "Authorization", tc.header)
				e2eCheckProblem(t, r, http.StatusUnauthorized, "unauthorized", "")
				if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s %s: WWW-Authenticate %q", route[0], route[1], r.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	// The open routes stay open.
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json"} {
		if r := l.do(t, http.MethodGet, path, nil, "Authorization", ""); r.Status != http.StatusOK {
			t.Errorf("GET %s without a token: %s", path, r)
		}
	}
	// A valid user token works.
	if r := l.as(valid).do(t, http.MethodGet, "/v1/transfers?account=nobody", nil); r.Status != http.StatusForbidden {
		t.Errorf("valid token on an account it does not own: %s", r)
	}
}

func TestE2EExpiredTokenIsRefused(t *testing.T) {
	l := e2eStart(t)
	key, err := auth.LoadKey(l.node.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	// Issued two hours ago for one hour: expired well beyond the leeway.
	old, err := auth.MintToken(key, "alice", userScopes, time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	e2eCheckProblem(t, l.as(old).do(t, http.MethodGet, "/v1/transfers?account=a", nil), http.StatusUnauthorized, "unauthorized", "")
}

func TestE2EOwnership(t *testing.T) {
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	alice := l.as(l.tokenFor(t, "alice", time.Hour, userScopes...))
	bob := l.as(l.tokenFor(t, "bob", time.Hour, userScopes...))

	// Users open accounts for themselves; the owner is their subject.
	r := alice.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "alice-1", "asset": "USD"})
	if acc := e2eJSON[e2eAccount](t, r, http.StatusCreated); acc.Owner != "alice" {
		t.Fatalf("alice's account owner %q", acc.Owner)
	}
	e2eJSON[e2eAccount](t, bob.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "bob-1", "asset": "USD"}), http.StatusCreated)
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "alice-2", "asset": "USD", "owner": "bob"}), http.StatusForbidden, "forbidden", "")

	// Only an admin mints.
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "m-a", "from": "world", "to": "alice-1", "amount": "10"}), http.StatusForbidden, "forbidden", "")
	l.post(t, map[string]any{"id": "m-1", "from": "world", "to": "alice-1", "amount": "100.00"})
	l.post(t, map[string]any{"id": "m-2", "from": "world", "to": "bob-1", "amount": "100.00"})

	// Alice debits her own account, not Bob's — not even by replaying
	// an id Bob used.
	e2eJSON[e2eTransfer](t, alice.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "a-1", "from": "alice-1", "to": "bob-1", "amount": "5.00"}), http.StatusCreated)
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "a-2", "from": "bob-1", "to": "alice-1", "amount": "5.00"}), http.StatusForbidden, "forbidden", "")
	e2eJSON[e2eTransfer](t, bob.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "b-1", "from": "bob-1", "to": "alice-1", "amount": "1.00"}), http.StatusCreated)
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "b-1", "from": "bob-1", "to": "alice-1", "amount": "1.00"}), http.StatusForbidden, "forbidden", "")
	// Unknown accounts look the same as someone else's.
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "a-3", "from": "ghost", "to": "alice-1", "amount": "1"}), http.StatusForbidden, "forbidden", "")

	// Reads: own accounts and their transfers only.
	e2eJSON[e2eAccount](t, alice.do(t, http.MethodGet, "/v1/accounts/alice-1", nil), http.StatusOK)
	for _, path := range []string{"/v1/accounts/bob-1", "/v1/accounts/bob-1/entries", "/v1/accounts/bob-1/balance", "/v1/accounts/world?asset=USD", "/v1/transfers/m-2", "/v1/transfers?account=bob-1", "/v1/transfers"} {
		e2eCheckProblem(t, alice.do(t, http.MethodGet, path, nil), http.StatusForbidden, "forbidden", "")
	}
	// A transfer between them is visible to both.
	for _, who := range []*e2eLedger{alice, bob} {
		e2eJSON[e2eTransfer](t, who.do(t, http.MethodGet, "/v1/transfers/a-1", nil), http.StatusOK)
	}
	page := e2ePageOf[e2eTransfer](t, alice.do(t, http.MethodGet, "/v1/transfers?account=alice-1", nil))
	if len(page.Data) != 3 {
		t.Errorf("alice's transfers: %d, want 3 (m-1, a-1, b-1)", len(page.Data))
	}
	if bal := l.account(t, "alice-1", "").Balance; bal != "96.00" {
		t.Errorf("alice-1 balance %s, want 96.00", bal)
	}
	l.checkZeroSum(t, "USD", "alice-1", "bob-1")
}

func TestE2EScopes(t *testing.T) {
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	readOnly := l.as(l.tokenFor(t, "carol", time.Hour, api.ScopeAccountsRead, api.ScopeTransfersRead))
	e2eCheckProblem(t, readOnly.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "c-1", "asset": "USD"}), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, readOnly.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "c-1", "to": "x", "amount": "1"}), http.StatusForbidden, "forbidden", "")
	user := l.as(l.tokenFor(t, "carol", time.Hour, userScopes...))
	e2eCheckProblem(t, user.do(t, http.MethodPost, "/v1/assets", map[string]any{"code": "EUR", "scale": 2}), http.StatusForbidden, "forbidden", "")
}

func TestE2ERateLimit(t *testing.T) {
	l := e2eStartWith(t, node.Config{RateLimit: 5}) // bursts of 10
	user := l.as(l.tokenFor(t, "dave", time.Hour, userScopes...))
	var limited e2eResp
	for i := 0; i < 50; i++ {
		r := user.do(t, http.MethodGet, "/v1/transfers?account=d", nil)
		if r.Status == http.StatusTooManyRequests {
			limited = r
			break
		}
	}
	if limited.Status == 0 {
		t.Fatal("50 requests at once were never rate limited")
	}
	e2eCheckProblem(t, limited, http.StatusTooManyRequests, "rate_limited", "")
	if ra := limited.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	// Admin tokens are not limited, and other users have their own budget.
	for i := 0; i < 30; i++ {
		if r := l.do(t, http.MethodGet, "/v1/transfers", nil); r.Status != http.StatusOK {
			t.Fatalf("admin request %d: %s", i, r)
		}
	}
	other := l.as(l.tokenFor(t, "erin", time.Hour, userScopes...))
	if r := other.do(t, http.MethodGet, "/v1/transfers?account=e", nil); r.Status == http.StatusTooManyRequests {
		t.Fatalf("another user was limited by dave's requests: %s", r)
	}
}
