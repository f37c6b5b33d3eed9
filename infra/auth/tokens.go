// Package auth implements api.Authenticator with JWTs and keeps the
// secrets of a data directory: the token signing key and the NATS
// listener's password.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/nats-ledger/ledger/api"
)

// TokenIssuer is the iss claim of the tokens ledger token create mints.
const TokenIssuer = "ledger"

// hs256KeyBytes is the size of a generated signing key: 256 bits, as
// HS256 wants.
const hs256KeyBytes = 32

// clockSkewLeeway tolerates clocks slightly apart when checking exp/nbf.
const clockSkewLeeway = 30 * time.Second

// AuthDir is the data directory's folder for secrets.
func AuthDir(dataDir string) string { return filepath.Join(dataDir, "auth") }

// DefaultKeyFile is where the HS256 signing key lives unless configured.
func DefaultKeyFile(dataDir string) string { return filepath.Join(AuthDir(dataDir), "hs256.key") }

// LoadOrCreateKey reads the HS256 key at path (hex), creating a random one
// with owner-only permissions if the file does not exist. created says
// whether it did.
func LoadOrCreateKey(path string) (key []byte, created bool, err error) {
	if _, created, err = LoadOrCreateSecret(path); err != nil {
		return nil, false, err
	}
	key, err = LoadKey(path)
	return key, created, err
}

// LoadOrCreateSecret reads the secret at path, or creates it: 32 random
// bytes in hex, readable by the owner only.
func LoadOrCreateSecret(path string) (secret string, created bool, err error) {
	raw, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(raw)), false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	b := make([]byte, hs256KeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", false, fmt.Errorf("generate secret: %w", err)
	}
	secret = hex.EncodeToString(b)
	if err := writeSecret(path, secret); err != nil {
		return "", false, err
	}
	return secret, true, nil
}

// NATSPasswordFile holds the password of the NATS listener's user.
func NATSPasswordFile(dataDir string) string { return filepath.Join(AuthDir(dataDir), "nats.password") }

// NATSUser is the ledger's own NATS user: it may do anything, streams'
// configuration included. Only the ledger and its operators' tools
// (ledger audit, replay, balances, export) should hold its password.
const NATSUser = "ledger"

// NATSReaderUser is the event consumers' NATS user: it may read the
// journal and run its own consumers on it, nothing else (see
// infra.ReaderPermissions). Its password is in NATSReaderPasswordFile.
const NATSReaderUser = "reader"

// NATSReaderPasswordFile holds the password of NATSReaderUser.
func NATSReaderPasswordFile(dataDir string) string {
	return filepath.Join(AuthDir(dataDir), "nats-reader.password")
}

// LoadKey reads an HS256 key file: hex, at least 32 bytes.
func LoadKey(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) < hs256KeyBytes {
		return nil, fmt.Errorf("signing key %s: want at least %d bytes in hex", path, hs256KeyBytes)
	}
	return key, nil
}

// writeSecret creates path (and its folder) readable by the owner only; it
// refuses to overwrite an existing file.
func writeSecret(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(content + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// claims are the JWT claims the ledger reads: the registered ones plus
// "scope", a space-separated list as in OAuth 2.0.
type claims struct {
	Scope string `json:"scope"`
	jwt.RegisteredClaims
}

// numericDateClaims are the registered claims that RFC 7519 (section 4.1)
// makes NumericDates: JSON numbers of seconds.
var numericDateClaims = [...]string{"exp", "nbf", "iat"}

// UnmarshalJSON reads the claims, refusing a NumericDate claim that is not
// a JSON number. The JWT library reads the string "9999999999" as a
// number; a token that spells its expiry so is malformed, and an issuer
// that writes one has a bug the ledger should not paper over. The other
// claims are typed by the struct: a sub, iss or scope that is not a
// string is refused by decoding itself.
func (c *claims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, name := range numericDateClaims {
		v, ok := raw[name]
		if ok && (len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
			return fmt.Errorf("claim %q must be a number of seconds (a NumericDate), not %s", name, v)
		}
	}
	type plain claims // the same fields without this method
	return json.Unmarshal(b, (*plain)(c))
}

// JWTVerifier accepts JWTs signed with an HS256 key, an RS256 public key,
// or a key from a JWKS URL, each optional. Every token must carry sub and
// exp.
type JWTVerifier struct {
	hsKey   []byte
	rsaKey  *rsa.PublicKey
	jwks    keyfunc.Keyfunc
	methods []string
	now     func() time.Time
	cache   *tokenCache
}

var _ api.Authenticator = (*JWTVerifier)(nil)

// JWTConfig selects the keys a JWTVerifier trusts.
type JWTConfig struct {
	HS256Key         []byte
	RS256PublicPEM   []byte // PEM public key
	JWKSURL          string // fetched and refreshed in the background until ctx ends
	JWKSFetchContext context.Context
	// CacheEntries bounds the verified tokens remembered (cache.go);
	// DefaultTokenCacheEntries when zero.
	CacheEntries int
	// Now is the clock tokens are checked against; time.Now when nil.
	Now func() time.Time
}

// NewJWTVerifier returns a verifier for the configured keys.
func NewJWTVerifier(cfg JWTConfig) (*JWTVerifier, error) {
	v := &JWTVerifier{hsKey: cfg.HS256Key, now: cfg.Now, cache: newTokenCache(cfg.CacheEntries)}
	if v.now == nil {
		v.now = time.Now
	}
	if len(cfg.HS256Key) > 0 {
		v.methods = append(v.methods, jwt.SigningMethodHS256.Alg())
	}
	if len(cfg.RS256PublicPEM) > 0 {
		k, err := jwt.ParseRSAPublicKeyFromPEM(cfg.RS256PublicPEM)
		if err != nil {
			return nil, fmt.Errorf("RS256 public key: %w", err)
		}
		v.rsaKey = k
	}
	if cfg.JWKSURL != "" {
		ctx := cfg.JWKSFetchContext
		if ctx == nil {
			ctx = context.Background()
		}
		k, err := keyfunc.NewDefaultCtx(ctx, []string{cfg.JWKSURL})
		if err != nil {
			return nil, fmt.Errorf("JWKS %s: %w", cfg.JWKSURL, err)
		}
		v.jwks = k
	}
	if v.rsaKey != nil || v.jwks != nil {
		v.methods = append(v.methods, jwt.SigningMethodRS256.Alg())
	}
	if len(v.methods) == 0 {
		return nil, errors.New("no token keys configured")
	}
	return v, nil
}

// Authenticate verifies the signature, algorithm, expiry and subject, or
// finds the same token (byte for byte) verified before and not yet expired
// in the cache.
func (v *JWTVerifier) Authenticate(_ context.Context, token string) (api.Principal, error) {
	now := v.now()
	key := sha256.Sum256([]byte(token))
	if p, ok := v.cache.get(key, now); ok {
		return p, nil
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, v.key, jwt.WithValidMethods(v.methods), jwt.WithExpirationRequired(),
		jwt.WithLeeway(clockSkewLeeway), jwt.WithTimeFunc(v.now))
	if err != nil {
		return api.Principal{}, fmt.Errorf("%w: %v", api.ErrInvalidToken, err)
	}
	if c.Subject == "" {
		return api.Principal{}, fmt.Errorf("%w: no subject", api.ErrInvalidToken)
	}
	p := api.Principal{Subject: c.Subject, Scopes: strings.Fields(c.Scope)}
	// Honoured from the cache exactly as long as the parser above would
	// accept it (exp is required, so ExpiresAt is set), and no longer
	// than tokenCacheTTLMax.
	v.cache.put(key, p, minTime(c.ExpiresAt.Add(clockSkewLeeway), now.Add(tokenCacheTTLMax)))
	return p, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (v *JWTVerifier) key(t *jwt.Token) (any, error) {
	switch t.Method.Alg() {
	case jwt.SigningMethodHS256.Alg():
		return v.hsKey, nil
	case jwt.SigningMethodRS256.Alg():
		if v.jwks != nil {
			if _, hasKid := t.Header["kid"]; hasKid || v.rsaKey == nil {
				return v.jwks.Keyfunc(t)
			}
		}
		if v.rsaKey != nil {
			return v.rsaKey, nil
		}
	}
	return nil, fmt.Errorf("unexpected signing method %s", t.Method.Alg())
}

// MintToken signs an HS256 token for sub with the scopes, valid for ttl.
func MintToken(key []byte, sub string, scopes []string, ttl time.Duration, now time.Time) (string, error) {
	if sub == "" {
		return "", errors.New("a token needs a subject")
	}
	if ttl <= 0 {
		return "", errors.New("a token needs a positive lifetime")
	}
	c := claims{
		Scope: strings.Join(scopes, " "),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Subject:   sub,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
}
