package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/nats-ledger/ledger/domain"
)

// Scopes a token may carry. ScopeAdmin implies every other.
const (
	ScopeAdmin          = "admin"
	ScopeAssetsWrite    = "assets:write"
	ScopeAccountsWrite  = "accounts:write"
	ScopeAccountsRead   = "accounts:read"
	ScopeTransfersWrite = "transfers:write"
	ScopeTransfersRead  = "transfers:read"
)

// AllScopes lists every scope, for documentation and the token command.
var AllScopes = []string{ScopeAdmin, ScopeAssetsWrite, ScopeAccountsWrite, ScopeAccountsRead, ScopeTransfersWrite, ScopeTransfersRead}

// Principal is who a request acts for.
type Principal struct {
	Subject string
	Scopes  []string
}

// Admin reports whether p holds the admin scope.
func (p Principal) Admin() bool { return slices.Contains(p.Scopes, ScopeAdmin) }

// Has reports whether p may use scope.
func (p Principal) Has(scope string) bool { return p.Admin() || slices.Contains(p.Scopes, scope) }

// actor is the principal as the processor sees it.
func (p Principal) actor() *domain.Actor {
	return &domain.Actor{Subject: p.Subject, Admin: p.Admin()}
}

// ErrInvalidToken is what an Authenticator returns for a token it does not
// accept (bad signature, expired, malformed, unknown).
var ErrInvalidToken = errors.New("invalid or expired token")

// Authenticator turns a bearer token into a principal. It returns
// ErrInvalidToken (wrapped) for any token it does not accept.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
}

// StaticToken accepts one fixed token as an admin principal: the operator's
// LEDGER_ADMIN_TOKEN. It compares in constant time.
type StaticToken struct {
	Token   string
	Subject string
}

// Authenticate accepts exactly t.Token.
func (t StaticToken) Authenticate(_ context.Context, token string) (Principal, error) {
	if t.Token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(t.Token)) != 1 {
		return Principal{}, ErrInvalidToken
	}
	return Principal{Subject: t.Subject, Scopes: []string{ScopeAdmin}}, nil
}

// Authenticators tries each in turn and accepts the first principal.
type Authenticators []Authenticator

// Authenticate returns the first acceptance, or ErrInvalidToken.
func (as Authenticators) Authenticate(ctx context.Context, token string) (Principal, error) {
	for _, a := range as {
		if p, err := a.Authenticate(ctx, token); err == nil {
			return p, nil
		}
	}
	return Principal{}, ErrInvalidToken
}

const principalKey = "ledger.principal"

// maxTokenBytes bounds a bearer token; real JWTs are well under 4 KiB.
const maxTokenBytes = 8 << 10

// authenticate requires a valid bearer token on every route it wraps. With
// no Authenticator configured it refuses everything: authentication fails
// closed.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ledger"`)
			return problem(CodeUnauthorized, "a bearer token is required: Authorization: Bearer <token>")
		}
		if s.cfg.Auth == nil || len(token) > maxTokenBytes {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ledger", error="invalid_token"`)
			return problem(CodeUnauthorized, "invalid or expired token")
		}
		p, err := s.cfg.Auth.Authenticate(c.Request().Context(), strings.TrimSpace(token))
		if err != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ledger", error="invalid_token"`)
			return problem(CodeUnauthorized, "invalid or expired token")
		}
		if err := s.limits.allow(c, p); err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// requireScope refuses principals without scope.
func requireScope(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !principalOf(c).Has(scope) {
				return problem(CodeForbidden, "this token lacks the "+scope+" scope")
			}
			return next(c)
		}
	}
}

func principalOf(c echo.Context) Principal {
	p, _ := c.Get(principalKey).(Principal)
	return p
}

// canRead reports whether the request's principal may read an account
// owned by owner: admins read everything, others only their own.
func canRead(c echo.Context, owner string) bool {
	p := principalOf(c)
	return p.Admin() || owner != "" && owner == p.Subject
}

// rateLimits holds one token bucket per subject. Admin tokens (operators,
// scripts) are not limited.
type rateLimits struct {
	perSecond float64
	burst     int

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// rateLimitSubjectsMax bounds the buckets kept; past it the map is reset,
// which at worst grants each subject a fresh burst.
const rateLimitSubjectsMax = 100_000

func newRateLimits(perSecond float64) *rateLimits {
	burst := int(math.Max(1, 2*perSecond))
	return &rateLimits{perSecond: perSecond, burst: burst, limiters: make(map[string]*rate.Limiter)}
}

func (r *rateLimits) allow(c echo.Context, p Principal) error {
	if d := r.reserve(p); d > 0 {
		secs := retryAfterSecondsOf(d)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return problem(CodeRateLimited, "too many requests for this token; retry after "+strconv.Itoa(secs)+"s")
	}
	return nil
}

// reserve takes one request from p's bucket and returns 0, or how long
// until the bucket would allow one (and takes nothing).
func (r *rateLimits) reserve(p Principal) time.Duration {
	if r == nil || r.perSecond <= 0 || p.Admin() {
		return 0
	}
	r.mu.Lock()
	l, ok := r.limiters[p.Subject]
	if !ok {
		if len(r.limiters) >= rateLimitSubjectsMax {
			r.limiters = make(map[string]*rate.Limiter)
		}
		l = rate.NewLimiter(rate.Limit(r.perSecond), r.burst)
		r.limiters[p.Subject] = l
	}
	r.mu.Unlock()
	res := l.Reserve()
	d := res.Delay()
	if d > 0 {
		res.Cancel()
	}
	return d
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one, for a
// Retry-After header.
func retryAfterSecondsOf(d time.Duration) int { return int(math.Ceil(max(d, time.Second).Seconds())) }
