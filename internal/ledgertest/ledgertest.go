// Package ledgertest runs a real ledger for tests: the
// embedded JetStream, the processor, the read model and the native API,
// with an adapter served beside it on its own loopback listener, as
// `ledger serve --compat` does.
//
// Its subpackages are the lighter fixtures: journaltest writes a journal
// as the processor does, without a ledger, for the packages that read
// journals; apidoc checks answers against the API's documents.
package ledgertest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/infra/auth"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/node"
)

// AdminToken is the static admin token of the test ledger.
const AdminToken = "compat-test-admin-token"

// Ledger is a running test ledger.
type Ledger struct {
	Node      *node.Node
	NativeURL string // the native API
	key       []byte
}

// Start runs a ledger on a new data directory; it stops at the end of the
// test.
func Start(t testing.TB) *Ledger {
	t.Helper()
	return StartWith(t, func(*node.Config) {})
}

// StartWith is Start with the node's configuration adjusted by set (a
// rate limit, say) before it starts.
func StartWith(t testing.TB, set func(*node.Config)) *Ledger {
	t.Helper()
	cfg := node.Config{DataDir: t.TempDir(), AdminToken: AdminToken, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	set(&cfg)
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start ledger: %v", err)
	}
	native := httptest.NewServer(n.Handler)
	t.Cleanup(func() {
		native.Close()
		_ = n.Close()
	})
	key, err := auth.LoadKey(n.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	l := &Ledger{Node: n, NativeURL: native.URL, key: key}
	l.waitReady(t)
	return l
}

// readyWait bounds the wait for the processor and the read model at start.
const readyWait = 30 * time.Second

func (l *Ledger) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(readyWait)
	for {
		resp, err := http.Get(l.NativeURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger not ready in %s", readyWait)
		}
		time.Sleep(10 * time.Millisecond) // polling for readiness
	}
}

// Serve serves an adapter's handler on its own loopback listener and
// returns its base URL.
func (l *Ledger) Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Token mints a native bearer token for sub with scopes, valid for an
// hour.
func (l *Ledger) Token(t testing.TB, sub string, scopes ...string) string {
	t.Helper()
	tok, err := auth.MintToken(l.key, sub, scopes, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Native sends a request to the native API as the admin and returns the
// status and the body.
func (l *Ledger) Native(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	return l.send(t, AdminToken, method, path, body)
}

// NativeAs is Native with another bearer token.
func (l *Ledger) NativeAs(t testing.TB, token, method, path string) (int, []byte) {
	t.Helper()
	return l.send(t, token, method, path, nil)
}

func (l *Ledger) send(t testing.TB, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var text string
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		text = string(data)
	}
	r := Do(t, method, l.NativeURL+path, text, "Authorization", "Bearer "+token, "Content-Type", "application/json")
	return r.Status, r.Body
}

// Must is Native, failing the test unless the status is want.
func (l *Ledger) Must(t testing.TB, want int, method, path string, body any) []byte {
	t.Helper()
	status, data := l.Native(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, data, want)
	}
	return data
}

// Mint credits account with amount of asset from the issuer account, as
// an operator funds a system's user.
func (l *Ledger) Mint(t testing.TB, account, asset, amount string) {
	t.Helper()
	l.Must(t, http.StatusCreated, http.MethodPost, "/v1/transfers",
		map[string]any{"from": "world", "to": account, "amount": amount, "asset": asset})
}

// Audit runs `ledger audit`'s checks on the running ledger's journal and
// commands stream and fails the test on any finding: whatever an adapter
// did is native and must pass them.
func (l *Ledger) Audit(t testing.TB) {
	t.Helper()
	AuditJetStream(t, l.Node.JS, l.Node.Names)
}

// AuditJetStream runs `ledger audit`'s checks on the journal and commands
// stream of a ledger reached through js (a node of any roles) and fails
// the test on any finding.
func AuditJetStream(t testing.TB, js jetstream.JetStream, names journalio.Names) {
	t.Helper()
	res, err := audit.Run(context.Background(), &audit.JetStreamSource{JS: js, Names: names}, audit.Options{})
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	if !res.Report.OK {
		t.Fatalf("audit failed: %v", res.Report.Findings)
	}
}
