package allmine_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/api/compat/allmine"
	"github.com/nats-ledger/ledger/internal/ledgertest"
)

// The asset is configurable: with POINTS at scale 0 the adapter defines
// it on first use and refuses fractions, never rounding them.
func TestOptionsAsset(t *testing.T) {
	l := ledgertest.Start(t)
	h, err := allmine.New(l.Node.Core, compat.Options{Asset: "POINTS", Scale: 0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{l: l, url: l.Serve(t, h)}
	// bob's first request opens his account (and defines POINTS).
	status, body := f.post(t, f.token(t, "bob"), transferBody("alice", "1"))
	wantEnvelope(t, "bob first", status, body, http.StatusNotFound, "recipient alice has no Allmine account")
	status, body = f.post(t, f.token(t, "alice"), transferBody("bob", "1"))
	wantEnvelope(t, "alice first", status, body, http.StatusBadRequest, "balance was 0 POINTS, at least 1 POINTS")
	l.Mint(t, "allmine:alice", "POINTS", "10")
	status, body = f.post(t, f.token(t, "alice"), transferBody("bob", "1.5"))
	wantEnvelope(t, "fraction", status, body, http.StatusBadRequest, "amount 1.5 has 1 decimal places; at most 0 are allowed")
	status, body = f.post(t, f.token(t, "alice"), transferBody("bob", "4"))
	if want := `{"senderId":"alice","recipientId":"bob","transferredAmount":4,"senderBalance":6,"recipientBalance":4}` + "\n"; status != 200 || string(body) != want {
		t.Fatalf("got %d %s, want %s", status, body, want)
	}
	if _, err := allmine.New(l.Node.Core, compat.Options{Asset: "points", Scale: 2}, nil); err == nil {
		t.Fatal("an invalid asset code was taken")
	}
	l.Audit(t)
}

// When the native asset exists with another scale, no request can be
// served: the adapter says so with 503 in its envelope, and moves nothing.
func TestAssetMisconfigured(t *testing.T) {
	f := start(t)
	f.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/assets", map[string]any{"code": "ALLMINE", "scale": 4})
	req, err := http.NewRequest(http.MethodPost, f.url+path, strings.NewReader(transferBody("bob", "1")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token(t, "alice"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	wantEnvelope(t, "misconfigured", resp.StatusCode, body, http.StatusServiceUnavailable, "the adapter's asset is misconfigured")
	if f.balance(t, "alice") != "" {
		t.Fatal("an account was opened")
	}
	f.l.Audit(t)
}
