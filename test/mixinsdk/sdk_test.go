package mixinsdk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fox-one/mixin-sdk-go/v2"
	"github.com/shopspring/decimal"
)

const (
	adminToken = "mixin-sdk-test-admin-token"
	btcID      = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	btcCode    = "BTC"
	// readyWait bounds the wait for the ledger to start.
	readyWait = 60 * time.Second
)

// ledger is a running `ledger serve --compat mixin=ADDR`.
type ledger struct {
	native, mixin string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startLedger builds the ledger from the repository root and runs it
// with the Mixin adapter on a new data directory.
func startLedger(t *testing.T) *ledger {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ledger")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ledger")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l := &ledger{native: freeAddr(t), mixin: freeAddr(t)}
	cmd := exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--http-addr", l.native, "--compat", "mixin="+l.mixin)
	cmd.Env = append(os.Environ(), "LEDGER_ADMIN_TOKEN="+adminToken)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(readyWait)
	for {
		select {
		case err := <-done:
			t.Fatalf("ledger exited: %v\n%s", err, stderr.String())
		default:
		}
		resp, err := http.Get("http://" + l.native + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger not ready in %s\n%s", readyWait, stderr.String())
		}
		time.Sleep(50 * time.Millisecond) // polling for readiness
	}
}

// post sends an admin request and decodes the answer into out.
func post(t *testing.T, url string, body any, want int, out any) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %s, want %d", url, resp.StatusCode, got, want)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("POST %s: %s: %v", url, got, err)
		}
	}
}

// keystore is the admin route's answer: the SDK's keystore and the PIN.
type keystore struct {
	mixin.Keystore
	Pin string `json:"pin"`
}

func (l *ledger) newUser(t *testing.T) (*mixin.Client, keystore) {
	t.Helper()
	var ks keystore
	post(t, "http://"+l.mixin+"/admin/users", map[string]string{"full_name": "sdk"}, http.StatusCreated, &ks)
	c, err := mixin.NewFromKeystore(&ks.Keystore)
	if err != nil {
		t.Fatalf("the SDK refuses the keystore: %v", err)
	}
	return c, ks
}

// fund opens the user's account as the operator does and mints into it.
func (l *ledger) fund(t *testing.T, userID, amount string) {
	t.Helper()
	account := "mixin:" + userID + ":" + btcCode
	post(t, "http://"+l.native+"/v1/accounts", map[string]string{"id": account, "asset": btcCode, "owner": "mixin:" + userID},
		http.StatusCreated, nil)
	post(t, "http://"+l.native+"/v1/transfers", map[string]string{"from": "world", "to": account, "amount": amount, "asset": btcCode},
		http.StatusCreated, nil)
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func wantCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	var e *mixin.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: %v (%T), want *mixin.Error code %d", what, err, err, code)
	}
}

// capturePin remembers the encrypted PINs the SDK makes.
type capturePin struct {
	mixin.Signer
	last string
}

func (c *capturePin) EncryptPin(pin string) string {
	c.last = c.Signer.EncryptPin(pin)
	return c.last
}

// fixedPin sends an encrypted PIN captured before: a replay.
type fixedPin struct {
	mixin.Signer
	encrypted string
}

func (f fixedPin) EncryptPin(string) string { return f.encrypted }

// tokenAt signs tokens issued at a fixed time (expired ones).
type tokenAt struct {
	*mixin.KeystoreAuth
	at time.Time
}

func (s tokenAt) SignToken(sig, requestID string, exp time.Duration) string {
	return s.SignTokenAt(sig, requestID, s.at, exp)
}

// tamperedSig signs tokens whose sig is not the request's.
type tamperedSig struct{ *mixin.KeystoreAuth }

func (s tamperedSig) SignToken(_, requestID string, exp time.Duration) string {
	return s.KeystoreAuth.SignToken(strings.Repeat("0", 64), requestID, exp)
}

// TestSDKAgainstTheLedger drives the unmodified SDK against a real
// ledger serve: transfer, reads, balances, retries and every error.
func TestSDKAgainstTheLedger(t *testing.T) {
	l := startLedger(t)
	mixin.GetRestyClient().SetBaseURL("http://" + l.mixin)
	ctx := context.Background()
	post(t, "http://"+l.mixin+"/admin/assets", map[string]string{"asset_id": btcID, "code": btcCode, "symbol": "BTC", "name": "Bitcoin"},
		http.StatusOK, nil)
	alice, aliceKS := l.newUser(t)
	bob, bobKS := l.newUser(t)
	l.fund(t, aliceKS.ClientID, "20")

	me, err := alice.UserMe(ctx)
	if err != nil || me.UserID != aliceKS.ClientID {
		t.Fatalf("UserMe: %+v %v", me, err)
	}
	in := &mixin.TransferInput{AssetID: btcID, OpponentID: bobKS.ClientID, Amount: decimal.RequireFromString("10"),
		TraceID: uuid(), Memo: "hello"}
	s, err := alice.Transfer(ctx, in, aliceKS.Pin)
	if err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	if !s.Amount.Equal(decimal.NewFromInt(-10)) || !s.OpeningBalance.Equal(decimal.NewFromInt(20)) ||
		!s.ClosingBalance.Equal(decimal.NewFromInt(10)) || s.OpponentID != bobKS.ClientID || s.AssetID != btcID ||
		s.TraceID != in.TraceID || s.Memo != "hello" || s.SnapshotID == "" || s.CreatedAt.IsZero() {
		t.Fatalf("snapshot %+v", s)
	}
	byTrace, err := alice.ReadTransfer(ctx, in.TraceID)
	if err != nil || byTrace.SnapshotID != s.SnapshotID {
		t.Fatalf("ReadTransfer: %+v %v", byTrace, err)
	}
	snap, err := alice.ReadSnapshot(ctx, s.SnapshotID)
	if err != nil || !snap.Amount.Equal(s.Amount) {
		t.Fatalf("ReadSnapshot: %+v %v", snap, err)
	}
	theirs, err := bob.ReadSnapshot(ctx, s.SnapshotID)
	if err != nil || !theirs.Amount.Equal(decimal.NewFromInt(10)) || theirs.OpponentID != aliceKS.ClientID {
		t.Fatalf("bob's ReadSnapshot: %+v %v", theirs, err)
	}
	for _, c := range []struct {
		who  *mixin.Client
		want int64
	}{{alice, 10}, {bob, 10}} {
		a, err := c.who.ReadAsset(ctx, btcID)
		if err != nil || !a.Balance.Equal(decimal.NewFromInt(c.want)) {
			t.Fatalf("ReadAsset: %+v %v", a, err)
		}
	}
	assets, err := bob.ReadAssets(ctx)
	if err != nil || len(assets) != 1 || !assets[0].Balance.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("ReadAssets: %+v %v", assets, err)
	}

	// A retry with the same trace is the original; another body is 20125.
	again, err := alice.Transfer(ctx, in, aliceKS.Pin)
	if err != nil || again.SnapshotID != s.SnapshotID || !again.ClosingBalance.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("retry: %+v %v", again, err)
	}
	conflict := *in
	conflict.Amount = decimal.NewFromInt(1)
	_, err = alice.Transfer(ctx, &conflict, aliceKS.Pin)
	wantCode(t, "conflicting trace", err, mixin.InvalidTraceID)

	transfer := func(amount, memo, to, pin string) error {
		_, err := alice.Transfer(ctx, &mixin.TransferInput{AssetID: btcID, OpponentID: to,
			Amount: decimal.RequireFromString(amount), TraceID: uuid(), Memo: memo}, pin)
		return err
	}
	wantCode(t, "insufficient balance", transfer("11", "", bobKS.ClientID, aliceKS.Pin), mixin.InsufficientBalance)
	wrong := "000000"
	if aliceKS.Pin == wrong {
		wrong = "000001"
	}
	wantCode(t, "wrong PIN", transfer("1", "", bobKS.ClientID, wrong), mixin.PinIncorrect)
	wantCode(t, "9 decimals", transfer("0.123456789", "", bobKS.ClientID, aliceKS.Pin), 10002)
	wantCode(t, "memo of 201", transfer("1", strings.Repeat("m", 201), bobKS.ClientID, aliceKS.Pin), 10002)
	wantCode(t, "to oneself", transfer("1", "", aliceKS.ClientID, aliceKS.Pin), 10002)

	// A replayed encrypted PIN: right once, refused the second time.
	signer := alice.Signer
	capture := &capturePin{Signer: signer}
	alice.Signer = capture
	if err := transfer("1", "", bobKS.ClientID, aliceKS.Pin); err != nil {
		t.Fatalf("transfer: %v", err)
	}
	alice.Signer = fixedPin{Signer: signer, encrypted: capture.last}
	wantCode(t, "replayed PIN", transfer("1", "", bobKS.ClientID, aliceKS.Pin), mixin.PinIncorrect)
	alice.Signer = signer

	// Tokens: expired, tampered, and a reused request id (jti).
	auth, err := mixin.AuthFromKeystore(&aliceKS.Keystore)
	if err != nil {
		t.Fatal(err)
	}
	alice.Signer = tokenAt{KeystoreAuth: auth, at: time.Now().Add(-time.Hour)}
	_, err = alice.UserMe(ctx)
	wantCode(t, "expired token", err, mixin.Unauthorized)
	alice.Signer = tamperedSig{KeystoreAuth: auth}
	_, err = alice.UserMe(ctx)
	wantCode(t, "tampered token", err, mixin.Unauthorized)
	alice.Signer = signer
	reused := mixin.WithRequestID(ctx, uuid())
	if _, err := alice.UserMe(reused); err != nil {
		t.Fatalf("UserMe: %v", err)
	}
	_, err = alice.UserMe(reused)
	wantCode(t, "reused jti", err, mixin.Unauthorized)

	// Nothing but the two transfers moved.
	a, err := alice.ReadAsset(ctx, btcID)
	if err != nil || !a.Balance.Equal(decimal.NewFromInt(9)) {
		t.Fatalf("alice: %+v %v", a, err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+l.native+"/v1/transfers/mixin-"+s.SnapshotID, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	nat, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer nat.Body.Close()
	body, _ := io.ReadAll(nat.Body)
	if nat.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"to":"mixin:`+bobKS.ClientID+`:BTC"`)) {
		t.Fatalf("native transfer: %d %s", nat.StatusCode, body)
	}
}
