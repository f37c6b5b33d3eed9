package mixin_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nats-ledger/ledger/api/compat/mixin"
	"github.com/nats-ledger/ledger/infra/mixinstore"
	"github.com/nats-ledger/ledger/internal/ledgertest"
	"github.com/nats-ledger/ledger/node"
)

const (
	btcID   = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	btcCode = "BTC"
)

// env is a ledger with the Mixin adapter and one mapped asset.
type env struct {
	l   *ledgertest.Ledger
	url string
}

func start(t *testing.T) *env {
	t.Helper()
	return startWith(t, func(*node.Config) {})
}

// startWith is start with the node's configuration adjusted by set.
func startWith(t *testing.T, set func(*node.Config)) *env {
	t.Helper()
	l := ledgertest.StartWith(t, set)
	store, err := mixinstore.New(context.Background(), l.Node.JS, l.Node.Names, 1)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{l: l, url: l.Serve(t, mixin.New(l.Node.Core, mixin.Options{Store: store}))}
	status, body := e.raw(t, http.MethodPost, "/admin/assets", ledgertest.AdminToken,
		`{"asset_id":"`+btcID+`","code":"`+btcCode+`","symbol":"BTC","name":"Bitcoin"}`)
	if status != http.StatusOK {
		t.Fatalf("map asset: %d %s", status, body)
	}
	return e
}

// fund opens u's account as the operator does (owned by mixin:<user>,
// as the adapter would on first use) and mints amount into it.
func (e *env) fund(t *testing.T, u *user, amount string) {
	t.Helper()
	account := "mixin:" + u.ks.ClientID + ":" + btcCode
	e.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/accounts",
		map[string]any{"id": account, "asset": btcCode, "owner": "mixin:" + u.ks.ClientID})
	e.l.Mint(t, account, btcCode, amount)
}

// raw sends a request with a bearer token and returns status and body.
func (e *env) raw(t *testing.T, method, path, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Request-Id", "req-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if got := resp.Header.Get("X-Request-Id"); got != "req-1" {
		t.Fatalf("%s %s: X-Request-Id %q, want it echoed", method, path, got)
	}
	return resp.StatusCode, data
}

// user is a client of one keystore, signing as the SDK does.
type user struct {
	e    *env
	ks   mixin.Keystore
	key  ed25519.PrivateKey
	iter atomic.Uint64
}

func (e *env) newUser(t *testing.T) *user {
	t.Helper()
	status, body := e.raw(t, http.MethodPost, "/admin/users", ledgertest.AdminToken, `{"full_name":"Test"}`)
	if status != http.StatusCreated {
		t.Fatalf("create user: %d %s", status, body)
	}
	u := &user{e: e}
	if err := json.Unmarshal(body, &u.ks); err != nil {
		t.Fatal(err)
	}
	key, err := base64.RawURLEncoding.DecodeString(u.ks.PrivateKey)
	if err != nil || len(key) != ed25519.PrivateKeySize {
		t.Fatalf("private_key %q: %v", u.ks.PrivateKey, err)
	}
	u.key = key
	u.iter.Store(uint64(time.Now().UnixNano()))
	return u
}

type tokenOpts struct {
	iat, exp time.Time
	jti, sig string
}

func (u *user) token(method, uri string, body []byte, o tokenOpts) string {
	if o.iat.IsZero() {
		o.iat = time.Now()
	}
	if o.exp.IsZero() {
		o.exp = o.iat.Add(time.Minute)
	}
	if o.jti == "" {
		o.jti = randomUUID()
	}
	if o.sig == "" {
		sum := sha256.Sum256([]byte(method + uri + string(body)))
		o.sig = hex.EncodeToString(sum[:])
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"uid": u.ks.ClientID, "sid": u.ks.SessionID, "iat": o.iat.Unix(), "exp": o.exp.Unix(),
		"jti": o.jti, "sig": o.sig, "scp": "FULL",
	}).SignedString(u.key)
	if err != nil {
		panic(err)
	}
	return tok
}

// do signs and sends a request; it returns the HTTP status and the
// decoded envelope.
func (u *user) do(t *testing.T, method, uri string, body any, o tokenOpts) (int, envelope) {
	t.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	status, out := u.e.raw(t, method, uri, u.token(method, uri, data, o), string(data))
	var env envelope
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatalf("%s %s: %d %s: %v", method, uri, status, out, err)
	}
	return status, env
}

type envelope struct {
	Data  json.RawMessage `json:"data"`
	Error *mixin.Error    `json:"error"`
}

// encryptPin encrypts as the SDK does, with the next iterator.
func (u *user) encryptPin(t *testing.T, pin string) string {
	t.Helper()
	return u.encryptPinAt(t, pin, u.iter.Add(1))
}

func (u *user) encryptPinAt(t *testing.T, pin string, iter uint64) string {
	t.Helper()
	digest := sha512.Sum512(u.key.Seed())
	priv, err := ecdh.X25519().NewPrivateKey(digest[:32])
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := base64.RawURLEncoding.DecodeString(u.ks.PinToken)
	pub, err := ecdh.X25519().NewPublicKey(tok)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := priv.ECDH(pub)
	plain := []byte(pin)
	plain = binary.LittleEndian.AppendUint64(plain, uint64(time.Now().Unix()))
	plain = binary.LittleEndian.AppendUint64(plain, iter)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, aes.BlockSize+len(plain))
	_, _ = rand.Read(out[:aes.BlockSize])
	block, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], plain)
	return base64.RawURLEncoding.EncodeToString(out)
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (u *user) transfer(t *testing.T, to *user, amount, trace, pin, memo string) (int, envelope) {
	t.Helper()
	return u.do(t, http.MethodPost, "/transfers", map[string]any{"asset_id": btcID, "opponent_id": to.ks.ClientID,
		"amount": amount, "trace_id": trace, "memo": memo, "Pin": pin}, tokenOpts{})
}

func wantCode(t *testing.T, what string, status int, env envelope, wantStatus, wantCode int) {
	t.Helper()
	if status != wantStatus || env.Error == nil || env.Error.Code != wantCode {
		t.Fatalf("%s: %d %+v, want HTTP %d code %d", what, status, env.Error, wantStatus, wantCode)
	}
}

func balance(t *testing.T, u *user) string {
	t.Helper()
	status, env := u.do(t, http.MethodGet, "/assets/"+btcID, nil, tokenOpts{})
	var a struct{ Balance string }
	if status != http.StatusOK || json.Unmarshal(env.Data, &a) != nil {
		t.Fatalf("read asset: %d %+v", status, env.Error)
	}
	return a.Balance
}

// TestTransferMovesMoneyAndRetriesReplay: a transfer answers the
// sender's snapshot, reads find it by trace and snapshot id (the
// recipient sees it positive), balances move once whatever the retries,
// and the journal passes the audit.
func TestTransferMovesMoneyAndRetriesReplay(t *testing.T) {
	e := start(t)
	alice, bob := e.newUser(t), e.newUser(t)
	e.fund(t, alice, "20")
	trace := randomUUID()
	status, env := alice.transfer(t, bob, "10", trace, alice.encryptPin(t, alice.ks.Pin), "hello")
	if status != http.StatusOK || env.Error != nil {
		t.Fatalf("transfer: %d %+v", status, env.Error)
	}
	var s mixin.Snapshot
	if err := json.Unmarshal(env.Data, &s); err != nil {
		t.Fatal(err)
	}
	if s.Type != "transfer" || s.Amount != "-10" || s.OpeningBalance != "20" || s.ClosingBalance != "10" ||
		s.OpponentID != bob.ks.ClientID || s.AssetID != btcID || s.TraceID != trace || s.Memo != "hello" {
		t.Fatalf("snapshot %+v", s)
	}
	// A retry with the same trace and body is the original.
	status, env = alice.transfer(t, bob, "10", trace, alice.encryptPin(t, alice.ks.Pin), "hello")
	var again mixin.Snapshot
	if status != http.StatusOK || json.Unmarshal(env.Data, &again) != nil || again.SnapshotID != s.SnapshotID ||
		again.ClosingBalance != "10" {
		t.Fatalf("retry: %d %+v %s", status, env.Error, env.Data)
	}
	// The same trace with another body is 20125.
	status, env = alice.transfer(t, bob, "1", trace, alice.encryptPin(t, alice.ks.Pin), "hello")
	wantCode(t, "conflicting trace", status, env, http.StatusAccepted, mixin.CodeTraceConflict)

	status, env = alice.do(t, http.MethodGet, "/transfers/trace/"+trace, nil, tokenOpts{})
	if status != http.StatusOK || !bytes.Contains(env.Data, []byte(s.SnapshotID)) {
		t.Fatalf("read trace: %d %+v", status, env.Error)
	}
	status, env = bob.do(t, http.MethodGet, "/snapshots/"+s.SnapshotID, nil, tokenOpts{})
	var theirs mixin.Snapshot
	if status != http.StatusOK || json.Unmarshal(env.Data, &theirs) != nil || theirs.Amount != "10" ||
		theirs.OpponentID != alice.ks.ClientID || theirs.ClosingBalance != "10" || theirs.OpeningBalance != "0" {
		t.Fatalf("recipient's snapshot: %d %+v %s", status, env.Error, env.Data)
	}
	carol := e.newUser(t)
	status, env = carol.do(t, http.MethodGet, "/snapshots/"+s.SnapshotID, nil, tokenOpts{})
	wantCode(t, "a stranger's snapshot", status, env, http.StatusAccepted, mixin.CodeNotFound)

	if a, b := balance(t, alice), balance(t, bob); a != "10" || b != "10" {
		t.Fatalf("balances %s %s, want 10 10", a, b)
	}
	status, env = alice.do(t, http.MethodGet, "/assets", nil, tokenOpts{})
	if status != http.StatusOK || !bytes.Contains(env.Data, []byte(`"balance":"10"`)) {
		t.Fatalf("assets: %d %s", status, env.Data)
	}
	status, env = alice.do(t, http.MethodGet, "/me", nil, tokenOpts{})
	if status != http.StatusOK || !bytes.Contains(env.Data, []byte(alice.ks.ClientID)) {
		t.Fatalf("me: %d %s", status, env.Data)
	}
	// Native: one transfer, by the user, between its accounts.
	native := e.l.Must(t, http.StatusOK, http.MethodGet, "/v1/transfers/mixin-"+s.SnapshotID, nil)
	if !bytes.Contains(native, []byte(`"from":"mixin:`+alice.ks.ClientID+`:BTC"`)) {
		t.Fatalf("native transfer %s", native)
	}
	e.l.Audit(t)
}

// TestTransferErrors: each refusal has Mixin's code and moves nothing.
func TestTransferErrors(t *testing.T) {
	e := start(t)
	alice, bob := e.newUser(t), e.newUser(t)
	e.fund(t, alice, "1")
	pin := func() string { return alice.encryptPin(t, alice.ks.Pin) }
	cases := []struct {
		name         string
		to           *user
		amount, memo string
		pin          string
		status, code int
		trace        string
	}{
		{"insufficient", bob, "2", "", pin(), http.StatusAccepted, mixin.CodeInsufficientBalance, ""},
		{"9 decimals", bob, "0.123456789", "", pin(), http.StatusAccepted, mixin.CodeInvalidField, ""},
		{"zero", bob, "0", "", pin(), http.StatusAccepted, mixin.CodeAmountTooSmall, ""},
		{"negative", bob, "-1", "", pin(), http.StatusAccepted, mixin.CodeAmountTooSmall, ""},
		{"not a number", bob, "1e3", "", pin(), http.StatusAccepted, mixin.CodeInvalidField, ""},
		{"memo 201", bob, "0.1", strings.Repeat("é", 201), pin(), http.StatusAccepted, mixin.CodeInvalidField, ""},
		{"to oneself", alice, "0.1", "", pin(), http.StatusAccepted, mixin.CodeInvalidField, ""},
		{"bad trace", bob, "0.1", "", pin(), http.StatusAccepted, mixin.CodeInvalidField, "not-a-uuid"},
		{"pin garbage", bob, "0.1", "", "AAAA", http.StatusAccepted, mixin.CodePinFormat, ""},
		{"pin missing", bob, "0.1", "", "", http.StatusAccepted, mixin.CodePinFormat, ""},
		{"wrong pin", bob, "0.1", "", alice.encryptPin(t, wrongPin(alice.ks.Pin)), http.StatusAccepted, mixin.CodePinIncorrect, ""},
	}
	for _, c := range cases {
		trace := c.trace
		if trace == "" {
			trace = randomUUID()
		}
		status, env := alice.transfer(t, c.to, c.amount, trace, c.pin, c.memo)
		wantCode(t, c.name, status, env, c.status, c.code)
	}
	// A replayed encrypted PIN is refused, though it was right once.
	used := pin()
	if status, env := alice.transfer(t, bob, "0.1", randomUUID(), used, ""); status != http.StatusOK {
		t.Fatalf("transfer: %d %+v", status, env.Error)
	}
	status, env := alice.transfer(t, bob, "0.1", randomUUID(), used, "")
	wantCode(t, "replayed pin", status, env, http.StatusAccepted, mixin.CodePinIncorrect)
	if a, b := balance(t, alice), balance(t, bob); a != "0.9" || b != "0.1" {
		t.Fatalf("balances %s %s, want 0.9 0.1", a, b)
	}
	e.l.Audit(t)
}

func wrongPin(pin string) string {
	if pin == "000000" {
		return "000001"
	}
	return "000000"
}

// TestWrongPinsLockTheUser: the fifth wrong PIN within a day locks the
// user (429), even with the right PIN then.
func TestWrongPinsLockTheUser(t *testing.T) {
	e := start(t)
	alice, bob := e.newUser(t), e.newUser(t)
	e.fund(t, alice, "1")
	for i := range 5 {
		status, env := alice.transfer(t, bob, "0.1", randomUUID(), alice.encryptPin(t, wrongPin(alice.ks.Pin)), "")
		wantCode(t, fmt.Sprintf("wrong pin %d", i+1), status, env, http.StatusAccepted, mixin.CodePinIncorrect)
	}
	status, env := alice.transfer(t, bob, "0.1", randomUUID(), alice.encryptPin(t, alice.ks.Pin), "")
	wantCode(t, "locked", status, env, http.StatusTooManyRequests, mixin.CodeTooManyRequests)
	if b := balance(t, bob); b != "0" {
		t.Fatalf("bob has %s", b)
	}
}

// TestOnePinIteratorOnceUnderConcurrency: the same encrypted PIN sent
// at once by many requests moves money once.
func TestOnePinIteratorOnceUnderConcurrency(t *testing.T) {
	e := start(t)
	alice, bob := e.newUser(t), e.newUser(t)
	e.fund(t, alice, "10")
	p := alice.encryptPin(t, alice.ks.Pin)
	const n = 6
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"asset_id": btcID, "opponent_id": bob.ks.ClientID,
				"amount": "1", "trace_id": randomUUID(), "pin": p})
			req, _ := http.NewRequest(http.MethodPost, e.url+"/transfers", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+alice.token(http.MethodPost, "/transfers", body, tokenOpts{}))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d transfers with one encrypted PIN, want 1", ok.Load())
	}
	if b := balance(t, bob); b != "1" {
		t.Fatalf("bob has %s, want 1", b)
	}
}

// TestTokensAreChecked: expired, tampered (sig of another request),
// reused jti, unknown session, foreign key: 401 in Mixin's shape.
func TestTokensAreChecked(t *testing.T) {
	e := start(t)
	alice := e.newUser(t)
	past := time.Now().Add(-time.Hour)
	status, env := alice.do(t, http.MethodGet, "/me", nil, tokenOpts{iat: past, exp: past.Add(time.Minute)})
	wantCode(t, "expired", status, env, http.StatusUnauthorized, mixin.CodeUnauthorized)
	status, env = alice.do(t, http.MethodGet, "/me", nil, tokenOpts{sig: strings.Repeat("0", 64)})
	wantCode(t, "tampered sig", status, env, http.StatusUnauthorized, mixin.CodeUnauthorized)
	status, env = alice.do(t, http.MethodGet, "/me", nil, tokenOpts{exp: time.Now().Add(48 * time.Hour)})
	wantCode(t, "too long a lifetime", status, env, http.StatusUnauthorized, mixin.CodeUnauthorized)
	jti := randomUUID()
	if status, env = alice.do(t, http.MethodGet, "/me", nil, tokenOpts{jti: jti}); status != http.StatusOK {
		t.Fatalf("me: %d %+v", status, env.Error)
	}
	status, env = alice.do(t, http.MethodGet, "/me", nil, tokenOpts{jti: jti})
	wantCode(t, "reused jti", status, env, http.StatusUnauthorized, mixin.CodeUnauthorized)
	mallory := &user{e: e, ks: alice.ks}
	_, mallory.key, _ = ed25519.GenerateKey(rand.Reader)
	status, env = mallory.do(t, http.MethodGet, "/me", nil, tokenOpts{})
	wantCode(t, "another key", status, env, http.StatusUnauthorized, mixin.CodeUnauthorized)
	mallory = &user{e: e, ks: alice.ks, key: alice.key}
	mallory.ks.SessionID = randomUUID()
	status, env = mallory.do(t, http.MethodGet, "/me", nil, tokenOpts{})
	wantCode(t, "unknown session", status, env, http.StatusUnauthorized, mixin.CodeUnauthorized)
	status, _ = e.raw(t, http.MethodGet, "/me", "", "")
	if status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", status)
	}
}

// TestMalformedRequestsAreMixinErrors: no request, however malformed,
// gets a 5xx or another shape; admin routes take only an admin token.
func TestMalformedRequestsAreMixinErrors(t *testing.T) {
	e := start(t)
	alice := e.newUser(t)
	tok := func(method, uri, body string) string { return alice.token(method, uri, []byte(body), tokenOpts{}) }
	for _, c := range []struct {
		method, path, body string
		status, code       int
	}{
		{http.MethodPost, "/transfers", `{"asset_id":`, http.StatusAccepted, mixin.CodeBadRequest},
		{http.MethodPost, "/transfers", `[1]`, http.StatusAccepted, mixin.CodeBadRequest},
		{http.MethodPost, "/transfers", `{"asset_id":5}`, http.StatusAccepted, mixin.CodeInvalidField},
		{http.MethodPost, "/transfers", `{"amount":"1","asset_id":"` + btcID + `","opponent_id":"` + alice.ks.ClientID + `","opponent_key":"x"}`, http.StatusAccepted, mixin.CodeInvalidField},
		{http.MethodPost, "/transfers", `{"s":"` + strings.Repeat("a", 20<<10) + `"}`, http.StatusAccepted, mixin.CodeInvalidField},
		{http.MethodGet, "/nowhere", ``, http.StatusAccepted, mixin.CodeNotFound},
		{http.MethodDelete, "/transfers", ``, http.StatusAccepted, mixin.CodeNotFound},
		{http.MethodGet, "/snapshots/not-a-uuid", ``, http.StatusAccepted, mixin.CodeNotFound},
		{http.MethodGet, "/assets/" + randomUUID(), ``, http.StatusAccepted, mixin.CodeNotFound},
	} {
		status, body := e.raw(t, c.method, c.path, tok(c.method, c.path, c.body), c.body)
		var env envelope
		if err := json.Unmarshal(body, &env); err != nil || status != c.status || env.Error == nil || env.Error.Code != c.code {
			t.Fatalf("%s %s %.40s: %d %s, want %d code %d", c.method, c.path, c.body, status, body, c.status, c.code)
		}
	}
	userTok := e.l.Token(t, "someone", "transfers:write")
	for _, c := range []struct {
		token string
		code  int
	}{{"", mixin.CodeUnauthorized}, {"nope", mixin.CodeUnauthorized}, {userTok, mixin.CodeForbidden}} {
		_, body := e.raw(t, http.MethodPost, "/admin/users", c.token, `{}`)
		var env envelope
		if json.Unmarshal(body, &env) != nil || env.Error == nil || env.Error.Code != c.code {
			t.Fatalf("admin with %q: %s, want code %d", c.token, body, c.code)
		}
	}
	status, body := e.raw(t, http.MethodPost, "/admin/assets", ledgertest.AdminToken,
		`{"asset_id":"`+randomUUID()+`","code":"`+btcCode+`"}`)
	if status != http.StatusAccepted || !bytes.Contains(body, []byte(`"code":10002`)) {
		t.Fatalf("code mapped twice: %d %s", status, body)
	}
}

// A user's requests count against the native rate limit (--rate-limit),
// a budget of their own: over it, Mixin's 429 with Retry-After.
func TestUsersAreRateLimited(t *testing.T) {
	e := startWith(t, func(c *node.Config) { c.RateLimit = 0.01 }) // a burst of 1, then one per 100 s
	alice, bob := e.newUser(t), e.newUser(t)
	if status, env := alice.do(t, http.MethodGet, "/me", nil, tokenOpts{}); status != http.StatusOK || env.Error != nil {
		t.Fatalf("first: %d %+v", status, env.Error)
	}
	status, env := alice.do(t, http.MethodGet, "/me", nil, tokenOpts{})
	wantCode(t, "over the budget", status, env, http.StatusTooManyRequests, mixin.CodeTooManyRequests)
	if status, env := bob.do(t, http.MethodGet, "/me", nil, tokenOpts{}); status != http.StatusOK || env.Error != nil {
		t.Fatalf("another user: %d %+v", status, env.Error)
	}
}
