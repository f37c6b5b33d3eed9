package main

import (
	"bytes"
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
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nats-ledger/ledger/api/compat/mixin"
)

// mixinUser signs requests as the Mixin SDK does.
type mixinUser struct {
	ks  mixin.Keystore
	key ed25519.PrivateKey
}

func (u mixinUser) do(t *testing.T, base, method, path string, body []byte) (int, []byte) {
	t.Helper()
	sum := sha256.Sum256(append([]byte(method+path), body...))
	now := time.Now()
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"uid": u.ks.ClientID, "sid": u.ks.SessionID,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": hex.EncodeToString(jti[:]),
		"sig": hex.EncodeToString(sum[:]), "scp": "FULL"}).SignedString(u.key)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func (u mixinUser) encryptPin(t *testing.T, iter uint64) string {
	t.Helper()
	digest := sha512.Sum512(u.key.Seed())
	priv, _ := ecdh.X25519().NewPrivateKey(digest[:32])
	tok, _ := base64.RawURLEncoding.DecodeString(u.ks.PinToken)
	pub, err := ecdh.X25519().NewPublicKey(tok)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := priv.ECDH(pub)
	plain := binary.LittleEndian.AppendUint64([]byte(u.ks.Pin), uint64(time.Now().Unix()))
	plain = binary.LittleEndian.AppendUint64(plain, iter)
	plain = append(plain, bytes.Repeat([]byte{10}, 10)...) // 22 bytes padded to 32
	out := make([]byte, aes.BlockSize+len(plain))
	_, _ = rand.Read(out[:aes.BlockSize])
	block, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], plain)
	return base64.RawURLEncoding.EncodeToString(out)
}

// TestServeCompatMixin: users made with `ledger mixin user create`
// against a running ledger move money through `serve --compat mixin`,
// visible natively; after a restart the users, balances and the spent
// PIN iterator are still there.
func TestServeCompatMixin(t *testing.T) {
	dir := t.TempDir()
	natsAddr := freeAddr(t)
	_, natsPort, _ := net.SplitHostPort(natsAddr)
	mixinAddr := freeAddr(t)
	p := startLedger(t, dir, "--nats-listen", natsPort, "--compat", "mixin="+mixinAddr)
	base := "http://" + mixinAddr
	users := make([]mixinUser, 2)
	for i := range users {
		out, stderr, status := runCLI(t, dir, "mixin", "user", "create", "--nats-url", "nats://"+natsAddr, "--data-dir", dir)
		if status != 0 {
			t.Fatalf("mixin user create: %d %s", status, stderr)
		}
		if err := json.Unmarshal([]byte(out), &users[i].ks); err != nil {
			t.Fatalf("keystore %s: %v", out, err)
		}
		key, _ := base64.RawURLEncoding.DecodeString(users[i].ks.PrivateKey)
		users[i].key = key
	}
	alice, bob := users[0], users[1]
	const assetID = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	c := newClient(p.url)
	adminMixin := newClient(base)
	adminMixin.must(t, http.MethodPost, "/admin/assets", map[string]any{"asset_id": assetID, "code": "BTC"}, http.StatusOK)
	account := "mixin:" + alice.ks.ClientID + ":BTC"
	c.must(t, http.MethodPost, "/v1/accounts", map[string]any{"id": account, "asset": "BTC", "owner": "mixin:" + alice.ks.ClientID}, http.StatusCreated)
	c.must(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "world", "to": account, "amount": "5", "asset": "BTC"}, http.StatusCreated)

	pin := alice.encryptPin(t, uint64(time.Now().UnixNano()))
	transfer := func() (int, []byte) {
		body, _ := json.Marshal(map[string]any{"asset_id": assetID, "opponent_id": bob.ks.ClientID, "amount": "1.5",
			"trace_id": "7c67e8e8-b142-488b-80a3-61d4d29c90bf", "pin": pin})
		return alice.do(t, base, http.MethodPost, "/transfers", body)
	}
	status, body := transfer()
	if status != http.StatusOK || !bytes.Contains(body, []byte(`"closing_balance":"3.5"`)) {
		t.Fatalf("transfer: %d %s", status, body)
	}
	var out struct{ Data mixin.Snapshot }
	_ = json.Unmarshal(body, &out)
	var native struct{ From, To, Amount string }
	if code, err := c.do(t.Context(), http.MethodGet, "/v1/transfers/mixin-"+out.Data.SnapshotID, nil, &native); err != nil ||
		code != http.StatusOK || native.To != "mixin:"+bob.ks.ClientID+":BTC" {
		t.Fatalf("native transfer: %d %v %+v", code, err, native)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 60*time.Second); err != nil {
		t.Fatalf("ledger exit: %v", err)
	}
	startLedger(t, dir, "--compat", "mixin="+mixinAddr)
	status, body = bob.do(t, base, http.MethodGet, "/assets/"+assetID, nil)
	if status != http.StatusOK || !bytes.Contains(body, []byte(`"balance":"1.5"`)) {
		t.Fatalf("bob after restart: %d %s", status, body)
	}
	status, body = transfer()
	if status != http.StatusAccepted || !bytes.Contains(body, []byte(`"code":20119`)) {
		t.Fatalf("the spent PIN after restart: %d %s, want 20119", status, body)
	}
}
