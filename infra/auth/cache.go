package auth

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-ledger/ledger/api"
)

// Limits of the verified-token cache. Verifying an HS256 JWT (base64,
// JSON, HMAC) was 5% of the server's CPU under load, for a token that most
// clients send unchanged on every request.
const (
	// DefaultTokenCacheEntries bounds the tokens remembered: about 200
	// bytes each (a hash, the principal, the list links), so 2 MB at most;
	// past it the least recently used is forgotten and verified again at
	// its next use.
	DefaultTokenCacheEntries = 10_000
	// tokenCacheTTLMax bounds how long a verification is trusted whatever
	// the token's expiry: a key withdrawn from a JWKS endpoint stops
	// being honoured through the cache within this time.
	tokenCacheTTLMax = 5 * time.Minute
)

// tokenCache remembers tokens verified, keyed by the SHA-256 of the whole
// token: header, claims and signature. A token that differs in any byte,
// its signature included, is another key and is verified in full. An
// entry is honoured only until the instant the verifier itself would start
// refusing the token (its exp plus the clock-skew leeway), and for at most
// tokenCacheTTLMax after it was verified.
type tokenCache struct {
	max int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*list.Element
	lru     list.List // of *tokenEntry, most recently used first

	hits, misses atomic.Uint64
}

type tokenEntry struct {
	key   [sha256.Size]byte
	p     api.Principal
	until time.Time // refused from this instant on
}

func newTokenCache(max int) *tokenCache {
	if max <= 0 {
		max = DefaultTokenCacheEntries
	}
	return &tokenCache{max: max, entries: make(map[[sha256.Size]byte]*list.Element, min(max, 1024))}
}

// get returns the principal of a token verified before and still valid at
// now. An entry past its time is removed.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) (api.Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		c.misses.Add(1)
		return api.Principal{}, false
	}
	e := el.Value.(*tokenEntry)
	if !now.Before(e.until) {
		c.lru.Remove(el)
		delete(c.entries, key)
		c.misses.Add(1)
		return api.Principal{}, false
	}
	c.lru.MoveToFront(el)
	c.hits.Add(1)
	return e.p, true
}

// put remembers a verified token until `until`, evicting the least
// recently used entry when full.
func (c *tokenCache) put(key [sha256.Size]byte, p api.Principal, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*tokenEntry)
		e.p, e.until = p, until
		c.lru.MoveToFront(el)
		return
	}
	for c.lru.Len() >= c.max {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*tokenEntry).key)
	}
	c.entries[key] = c.lru.PushFront(&tokenEntry{key: key, p: p, until: until})
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// TokenCacheStats counts the verified-token cache's use.
type TokenCacheStats struct {
	Hits, Misses uint64
	Entries      int
}

// CacheStats returns how often a token was answered from the cache, how
// often it was verified in full, and the entries held.
func (v *JWTVerifier) CacheStats() TokenCacheStats {
	return TokenCacheStats{Hits: v.cache.hits.Load(), Misses: v.cache.misses.Load(), Entries: v.cache.len()}
}
