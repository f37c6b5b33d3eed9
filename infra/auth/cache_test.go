package auth_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/infra/auth"
)

// clock is a settable time for the verifier.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// statusServer serves the API on loopback with v as its authenticator;
// GET /v1/status answers 200 to an admin token, 401 to a refused one.
func statusServer(t *testing.T, v api.Authenticator) string {
	t.Helper()
	h := api.New(api.Config{Auth: v, Status: func(context.Context) (api.StatusView, error) { return api.StatusView{}, nil }}, nil, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewHTTPServer(h)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/v1/status"
}

func statusWith(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestVerifiedTokenCacheThroughHTTP(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	clk := &clock{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	v, err := auth.NewJWTVerifier(auth.JWTConfig{HS256Key: key, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	url := statusServer(t, v)
	tok, err := auth.MintToken(key, "ops", []string{api.ScopeAdmin}, time.Minute, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got := statusWith(t, url, tok); got != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i, got)
		}
	}
	if s := v.CacheStats(); s.Hits != 2 || s.Misses != 1 || s.Entries != 1 {
		t.Fatalf("after three uses of one token: %+v, want 2 hits, 1 miss, 1 entry", s)
	}

	// The same header and claims with another signature: never the
	// cached answer.
	dot := strings.LastIndexByte(tok, '.')
	sig := []byte(tok[dot+1:])
	sig[0] = map[bool]byte{true: 'B', false: 'A'}[sig[0] == 'A']
	forged := tok[:dot+1] + string(sig)
	if got := statusWith(t, url, forged); got != http.StatusUnauthorized {
		t.Fatalf("forged signature: status %d, want 401", got)
	}
	if s := v.CacheStats(); s.Hits != 2 {
		t.Fatalf("a forged signature hit the cache: %+v", s)
	}

	// Within the clock-skew leeway after exp, the verifier accepts the
	// token, and so does the cache; past it, the cached token is refused.
	clk.advance(time.Minute + 20*time.Second)
	if got := statusWith(t, url, tok); got != http.StatusOK {
		t.Fatalf("within the leeway: status %d, want 200", got)
	}
	clk.advance(11 * time.Second)
	if got := statusWith(t, url, tok); got != http.StatusUnauthorized {
		t.Fatalf("expired token, cached before: status %d, want 401", got)
	}
}

func TestVerifiedTokenCacheIsBounded(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	v, err := auth.NewJWTVerifier(auth.JWTConfig{HS256Key: key, CacheEntries: 2})
	if err != nil {
		t.Fatal(err)
	}
	url := statusServer(t, v)
	var toks []string
	for _, sub := range []string{"a", "b", "c"} {
		tok, err := auth.MintToken(key, sub, []string{api.ScopeAdmin}, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	// a, b, c: three misses, a evicted; b hits; a misses again (and
	// evicts c, the least recently used).
	for _, i := range []int{0, 1, 2, 1, 0} {
		if got := statusWith(t, url, toks[i]); got != http.StatusOK {
			t.Fatalf("token %d: status %d", i, got)
		}
	}
	if s := v.CacheStats(); s.Hits != 1 || s.Misses != 4 || s.Entries != 2 {
		t.Fatalf("stats %+v, want 1 hit, 4 misses, 2 entries", s)
	}
}
