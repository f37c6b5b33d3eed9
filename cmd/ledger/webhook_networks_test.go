package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/subscriber"
)

// --webhook-allow-networks and its variable reach the webhook
// configuration; a bad network is a usage error naming the flag.
func TestServeWebhookAllowNetworksFlag(t *testing.T) {
	t.Setenv("LEDGER_WEBHOOK_ALLOW_NETWORKS", "")
	c, err := parseServe([]string{"--webhook-allow-networks", "10.20.0.0/16,fd00:20::/32", "--webhook-allow-networks", "127.0.0.1/8"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("fd00:20::/32"), netip.MustParsePrefix("127.0.0.0/8")}
	if got := c.node.Webhooks.AllowNetworks; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("networks %v, want %v", got, want)
	}
	t.Setenv("LEDGER_WEBHOOK_ALLOW_NETWORKS", "192.168.7.0/24, 10.0.0.0/8")
	if c, err = parseServe(nil, io.Discard); err != nil || len(c.node.Webhooks.AllowNetworks) != 2 {
		t.Fatalf("from the environment: %v, %v", c.node.Webhooks.AllowNetworks, err)
	}
	t.Setenv("LEDGER_WEBHOOK_ALLOW_NETWORKS", "")
	if c, err = parseServe(nil, io.Discard); err != nil || len(c.node.Webhooks.AllowNetworks) != 0 {
		t.Fatalf("default: %v, %v; want none", c.node.Webhooks.AllowNetworks, err)
	}
	for _, bad := range []string{"10.1.2.3", "10.0.0.0/33", "nope", ""} {
		if _, err := parseServe([]string{"--webhook-allow-networks", bad}, io.Discard); err == nil || !strings.Contains(err.Error(), "webhook-allow-networks") || exitStatus(err) != 2 {
			t.Errorf("%q: %v, want a usage error naming the flag", bad, err)
		}
	}
}

// A webhook to a receiver on 127.0.0.1 is registered and delivered when
// `ledger serve` names 127.0.0.0/8, and refused when it does not name a
// loopback network (here 0.0.0.0/0, which opens no loopback).
func TestServeWebhookToAPrivateReceiver(t *testing.T) {
	got := make(chan string, 16)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get(subscriber.HeaderEventType)
	}))
	t.Cleanup(rc.Close)
	hook := map[string]any{"url": rc.URL + "/hook", "events": []string{"AssetDefined"}}

	p := startLedger(t, t.TempDir(), "--webhook-allow-networks", "127.0.0.0/8")
	c := newClient(p.url)
	c.must(t, http.MethodPost, "/v1/webhooks", hook, http.StatusCreated)
	c.must(t, http.MethodPost, "/v1/assets", map[string]any{"code": "USD", "scale": 2}, http.StatusCreated)
	select {
	case typ := <-got:
		if typ != "AssetDefined" {
			t.Fatalf("delivered %q", typ)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no delivery to %s\n%s", rc.URL, p.stderr)
	}

	t.Setenv("LEDGER_WEBHOOK_ALLOW_NETWORKS", "0.0.0.0/0")
	q := startLedger(t, t.TempDir())
	var prob struct {
		Code, Field string
	}
	status, err := newClient(q.url).do(context.Background(), http.MethodPost, "/v1/webhooks", hook, &prob)
	if err != nil || status != http.StatusBadRequest || prob.Code != "validation_failed" || prob.Field != "url" {
		t.Fatalf("without a loopback network: %d %+v %v, want 400 validation_failed on url", status, prob, err)
	}
}
