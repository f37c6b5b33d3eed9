package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/infra/auth"
)

func TestKeyIsCreatedOnceWithOwnerOnlyPermissions(t *testing.T) {
	path := auth.DefaultKeyFile(t.TempDir())
	k1, created, err := auth.LoadOrCreateKey(path)
	if err != nil || !created || len(k1) != 32 {
		t.Fatalf("first load: %d bytes, created %v, %v", len(k1), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	k2, created, err := auth.LoadOrCreateKey(path)
	if err != nil || created || string(k1) != string(k2) {
		t.Fatalf("second load: created %v, same %v, %v", created, string(k1) == string(k2), err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "short.key"), []byte("abcd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.LoadKey(filepath.Join(filepath.Dir(path), "short.key")); err == nil {
		t.Fatal("a 2-byte key was accepted")
	}
}

func TestHS256Tokens(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	v, err := auth.NewJWTVerifier(auth.JWTConfig{HS256Key: key})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good, err := auth.MintToken(key, "alice", []string{api.ScopeTransfersWrite, api.ScopeAccountsRead}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(context.Background(), good)
	if err != nil || p.Subject != "alice" || !p.Has(api.ScopeTransfersWrite) || p.Has(api.ScopeAdmin) {
		t.Fatalf("good token: %+v, %v", p, err)
	}
	expired, _ := auth.MintToken(key, "alice", []string{api.ScopeAdmin}, time.Minute, now.Add(-time.Hour))
	noExp := sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "alice", "scope": "admin"})
	noSub := sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"exp": now.Add(time.Hour).Unix(), "scope": "admin"})
	hs512 := sign(t, jwt.SigningMethodHS512, key, jwt.MapClaims{"sub": "a", "exp": now.Add(time.Hour).Unix()})
	for name, tok := range map[string]string{"expired": expired, "no exp": noExp, "no sub": noSub, "HS512": hs512, "garbage": "a.b.c"} {
		if _, err := v.Authenticate(context.Background(), tok); !errors.Is(err, api.ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
	if _, err := auth.MintToken(key, "", nil, time.Hour, now); err == nil {
		t.Error("minted a token without a subject")
	}
}

func TestRS256PublicKeyAndJWKS(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	claims := jwt.MapClaims{"sub": "svc", "scope": "transfers:read", "exp": time.Now().Add(time.Hour).Unix()}

	v, err := auth.NewJWTVerifier(auth.JWTConfig{RS256PublicPEM: pemKey})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Authenticate(context.Background(), sign(t, jwt.SigningMethodRS256, priv, claims)); err != nil || p.Subject != "svc" {
		t.Fatalf("RS256 with the PEM key: %+v %v", p, err)
	}
	// An HS256 token "signed" with the public key must not pass (the
	// classic algorithm confusion).
	if _, err := v.Authenticate(context.Background(), sign(t, jwt.SigningMethodHS256, pemKey, claims)); err == nil {
		t.Fatal("HS256 token keyed with the RSA public key was accepted")
	}

	jwks := map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(priv.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(priv.E)).Bytes()),
	}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jwks)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err = auth.NewJWTVerifier(auth.JWTConfig{JWKSURL: srv.URL, JWKSFetchContext: ctx})
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "k1"
	signed, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Authenticate(context.Background(), signed); err != nil || p.Subject != "svc" {
		t.Fatalf("RS256 from the JWKS: %+v %v", p, err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	forged.Header["kid"] = "k1"
	forgedTok, _ := forged.SignedString(other)
	if _, err := v.Authenticate(context.Background(), forgedTok); err == nil {
		t.Fatal("a token signed by another RSA key was accepted")
	}
}

func sign(t *testing.T, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
