package mixin

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token limits.
const (
	// maxTokenLifetime bounds exp - iat. The SDK signs each request with a
	// token valid for a minute; a used jti is remembered until its
	// token expires, so this bounds how long that memory is needed.
	maxTokenLifetime = time.Hour
	// maxJTIs bounds the remembered jtis (about 100 bytes each). Past it,
	// expired ones are dropped; if none are, new tokens are refused with
	// 429 until some expire, rather than forgetting a live one.
	maxJTIs = 200_000
	// maxJTILen bounds a jti (the SDK's is a 36-character UUID).
	maxJTILen = 128
)

// tokenClaims are the claims of the SDK's tokens: the registered ones
// (exp, iat, jti) and Mixin's uid, sid, sig and scp.
type tokenClaims struct {
	jwt.RegisteredClaims
	UID   string `json:"uid"`
	SID   string `json:"sid"`
	Sig   string `json:"sig"`
	Scope string `json:"scp"`
}

// errNoSession is a token naming a session no user has.
var errNoSession = errors.New("unknown session")

// authenticate checks the request's bearer token as Mixin does: an EdDSA
// signature by the session's key, uid and sid of one user, an exp within
// maxTokenLifetime of iat and not passed, a jti not seen before, and a
// sig that is the SHA-256 of the request actually received (method, path
// with query, body). It returns the user, or an *Error (401, 429, 503).
func (h *handler) authenticate(ctx context.Context, r *http.Request, body []byte) (User, *Error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return User{}, errUnauthorized
	}
	var (
		user     User
		storeErr error
	)
	var c tokenClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) {
		u, err := h.store.UserBySession(ctx, c.SID)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				storeErr = err
			}
			return nil, errNoSession
		}
		user = u
		return ed25519.PublicKey(u.SessionPublicKey), nil
	}, jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithTimeFunc(h.now))
	if storeErr != nil {
		h.log.Warn("mixin session lookup", "err", storeErr)
		return User{}, errUnavailable
	}
	if err != nil || c.UID != user.ID || c.IssuedAt == nil || c.ID == "" || len(c.ID) > maxJTILen ||
		c.ExpiresAt.Sub(c.IssuedAt.Time) > maxTokenLifetime {
		return User{}, errUnauthorized
	}
	want := requestSig(r, body)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(c.Sig)), []byte(want)) != 1 {
		return User{}, errUnauthorized
	}
	if !scopeAllows(user.Scope, c.Scope, r) {
		return User{}, newError(CodeForbidden, "Access forbidden: the token's scope does not allow this request.")
	}
	if e := h.jtis.use(user.SessionID+"/"+c.ID, c.ExpiresAt.Time, h.now()); e != nil {
		return User{}, e
	}
	return user, nil
}

// requestSig is hex(SHA-256(method ‖ path with query ‖ body)), as the SDK
// computes the sig claim.
func requestSig(r *http.Request, body []byte) string {
	s := sha256.New()
	s.Write([]byte(r.Method))
	s.Write([]byte(r.URL.RequestURI()))
	s.Write(body)
	return hex.EncodeToString(s.Sum(nil))
}

// scopeAllows: the token may narrow the user's scope, never widen it,
// and reads need their READ scope or FULL, writes FULL.
func scopeAllows(granted, asked string, r *http.Request) bool {
	if asked == "" {
		asked = ScopeFull
	}
	has := func(set, s string) bool {
		for _, f := range strings.Fields(set) {
			if f == s || f == ScopeFull {
				return true
			}
		}
		return false
	}
	for _, s := range strings.Fields(asked) {
		if !has(granted, s) {
			return false
		}
	}
	need := ScopeFull
	if r.Method == http.MethodGet {
		switch {
		case r.URL.Path == "/me":
			need = "PROFILE:READ"
		case strings.HasPrefix(r.URL.Path, "/assets"):
			need = "ASSETS:READ"
		default:
			need = "SNAPSHOTS:READ"
		}
	}
	return has(asked, need)
}

// jtiSet remembers used jtis until their tokens expire, so a token is
// used once. It lives in memory: after a restart, a token signed before
// it could be replayed within its lifetime (a minute for the SDK's), and
// only to repeat the exact request it signs; a transfer's encrypted PIN
// is one-time on its own (its iterator is kept durably).
type jtiSet struct {
	mu   sync.Mutex
	seen map[string]time.Time // jti -> its token's expiry
}

func newJTISet() *jtiSet { return &jtiSet{seen: map[string]time.Time{}} }

// use records jti until exp, or returns 401 if it was used.
func (s *jtiSet) use(jti string, exp, now time.Time) *Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.seen[jti]; ok && until.After(now) {
		return errUnauthorized
	}
	if len(s.seen) >= maxJTIs {
		for k, until := range s.seen {
			if !until.After(now) {
				delete(s.seen, k)
			}
		}
		if len(s.seen) >= maxJTIs {
			return newError(CodeTooManyRequests, "Too many live tokens: retry in a minute.")
		}
	}
	s.seen[jti] = exp
	return nil
}
