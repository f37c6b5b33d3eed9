package compat_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest"
	"github.com/nats-ledger/ledger/projections"
)

func TestAccountID(t *testing.T) {
	for _, tc := range []struct{ user, want, err string }{
		{"alice", "mercury:alice", ""},
		{"", "", "is required"},
		{"a b", "", `"a b" cannot be a user of mercury`},
		{strings.Repeat("x", 60), "", "cannot be a user of mercury"},
	} {
		got, err := compat.AccountID("From", "mercury", tc.user)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("AccountID(%q) = %q, %v; want %q, %q", tc.user, got, err, tc.want, tc.err)
		}
	}
	if u, ok := compat.UserOf("mercury", "mercury:alice"); !ok || u != "alice" {
		t.Errorf("UserOf: %q %v", u, ok)
	}
	if _, ok := compat.UserOf("mercury", "allmine:alice"); ok {
		t.Error("UserOf took another system's account")
	}
}

func TestTransferID(t *testing.T) {
	a := compat.TransferID("cb", "user-1", "key-1")
	if a != compat.TransferID("cb", "user-1", "key-1") {
		t.Fatal("not stable")
	}
	for _, other := range []string{compat.TransferID("cb", "user-2", "key-1"), compat.TransferID("cb", "user-1", "key-2"),
		compat.TransferID("cb", "user-1k", "ey-1"), compat.TransferID("mx", "user-1", "key-1")} {
		if other == a {
			t.Fatalf("%s collides", other)
		}
	}
	if err := domain.ValidateID("id", a); err != nil || !strings.HasPrefix(a, "cb-") {
		t.Fatalf("%s: %v", a, err)
	}
}

// The Opener defines the asset and opens accounts once, owned by their
// users and without overdraft; an asset of another scale is a conflict.
func TestOpener(t *testing.T) {
	l := ledgertest.Start(t)
	ctx := context.Background()
	o := compat.NewOpener(l.Node.Core, domain.Asset{Code: "MERCURY", Scale: 6})
	for range 2 {
		if err := o.Open(ctx, "mercury:alice", "mercury:alice", "mercury:bob", "mercury:bob"); err != nil {
			t.Fatal(err)
		}
	}
	v, err := l.Node.Core.Account(ctx, "mercury:alice", "")
	if err != nil || v.Owner != "mercury:alice" || v.Asset != "MERCURY" || v.OverdraftLimit != "0.000000" {
		t.Fatalf("account %+v, %v", v, err)
	}
	if _, err := l.Node.Core.Account(ctx, "mercury:carol", ""); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("an account never opened: %v", err)
	}
	other := compat.NewOpener(l.Node.Core, domain.Asset{Code: "MERCURY", Scale: 2})
	if err := other.Open(ctx, "mercury:carol", "mercury:carol"); !errors.Is(err, compat.ErrConflict) {
		t.Fatalf("asset of another scale: %v", err)
	}
	// Nothing was opened in the asset it could not define.
	if _, err := l.Node.Core.Account(ctx, "mercury:carol", ""); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("an account opened beside a refused asset: %v", err)
	}
	l.Audit(t)
}

// An adapter reads the rate table through the Core as the native API has
// it, once the rate set is applied.
func TestCoreRates(t *testing.T) {
	l := ledgertest.Start(t)
	for _, code := range []string{"USD", "EUR"} {
		l.Must(t, 201, "POST", "/v1/assets", map[string]any{"code": code, "scale": 2})
	}
	l.Must(t, 200, "PUT", "/v1/rates/USD/EUR", map[string]any{"rate": "0.920"})
	rates, err := l.Node.Core.Rates(context.Background())
	if err != nil || len(rates) != 1 || rates[0].Base != "USD" || rates[0].Quote != "EUR" || rates[0].Rate != "0.92" {
		t.Fatalf("rates %+v, %v", rates, err)
	}
}
