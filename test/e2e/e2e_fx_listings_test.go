package e2e_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestE2EConversionsInListingsAndHistory reads a conversion through every
// read that names it (ADR 0019 on the Pebble read model, ADR 0014): the
// transfer's asset is the sender's, so GET /v1/transfers?asset= lists it
// under USD only, and a listing by the recipient with asset=USD finds it
// while asset=EUR does not; by sender and recipient it is on its own
// side; the recipient's entry is its credit in EUR; the FX account's
// position has a history like an account's: entries per asset and a
// balance as of a sequence before and after the conversion.
func TestE2EConversionsInListingsAndHistory(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.defineAsset(t, "EUR", 2)
	l.openAccount(t, "alice-usd", "USD")
	l.openAccount(t, "bob-eur", "EUR")
	l.mint(t, "alice-usd", "100.00")
	bobMint := l.mint(t, "bob-eur", "5.00")
	e2eJSON[e2eRate](t, l.do(t, http.MethodPut, "/v1/rates/USD/EUR", map[string]any{"rate": "0.9155"}), http.StatusOK)
	x1 := e2eJSON[e2eTransfer](t, l.do(t, http.MethodPost, "/v1/transfers",
		map[string]any{"id": "x1", "from": "alice-usd", "to": "bob-eur", "amount": "10"}), http.StatusCreated)
	if x1.ToAsset != "EUR" || x1.ToAmount != "9.15" || len(x1.Entries) != 4 {
		t.Fatalf("x1: %+v", x1)
	}

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"account=bob-eur", []string{"x1", bobMint.ID}},
		{"account=bob-eur&asset=USD", []string{"x1"}},
		{"account=bob-eur&asset=EUR", []string{bobMint.ID}},
		{"to=bob-eur", []string{"x1", bobMint.ID}},
		{"to=bob-eur&asset=USD", []string{"x1"}},
		{"from=alice-usd", []string{"x1"}},
		{"from=alice-usd&asset=EUR", nil},
		{"asset=EUR", []string{bobMint.ID}},
		{"account=fx", nil},
	} {
		q, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		got := l.walkTransfers(t, q, 1)
		if ids := e2eIDs(got); !slices.Equal(ids, c.want) {
			t.Errorf("transfers?%s: %v, want %v", c.query, ids, c.want)
		}
		for _, tr := range got {
			if tr.ID == "x1" && (tr.ToAsset != "EUR" || tr.ToAmount != "9.15" || tr.ExchangeRate != "0.9155" || len(tr.Entries) != 4) {
				t.Errorf("transfers?%s: x1 listed as %+v", c.query, tr)
			}
		}
	}
	usd := l.walkTransfers(t, url.Values{"asset": {"USD"}}, 0)
	if ids := e2eIDs(usd); len(ids) != 2 || ids[0] != "x1" {
		t.Errorf("transfers?asset=USD: %v, want x1 and alice's mint", ids)
	}

	bob := l.walkEntries(t, "bob-eur", "", 1)
	if len(bob) != 2 || bob[0].TransferID != "x1" || bob[0].Type != "credit" || bob[0].Amount != "9.15" || bob[0].Balance != "14.15" {
		t.Errorf("bob's entries: %+v", bob)
	}
	for _, c := range []struct {
		asset, typ, amount, balance string
	}{{"USD", "credit", "10.00", "10.00"}, {"EUR", "debit", "9.15", "-9.15"}} {
		fx := l.walkEntries(t, "fx", c.asset, 1)
		if len(fx) != 1 || fx[0].TransferID != "x1" || fx[0].Type != c.typ || fx[0].Amount != c.amount || fx[0].Balance != c.balance {
			t.Errorf("FX entries in %s: %+v", c.asset, fx)
		}
		for _, at := range []struct {
			seq     uint64
			balance string
		}{{x1.Sequence - 1, "0.00"}, {x1.Sequence, c.balance}} {
			path := fmt.Sprintf("/v1/accounts/fx/balance?asset=%s&as_of=%d", c.asset, at.seq)
			b := e2eJSON[e2eBalance](t, l.do(t, http.MethodGet, path, nil), http.StatusOK)
			if b.Account != "fx" || b.Asset != c.asset || b.Balance != at.balance || b.AsOf.Sequence != at.seq {
				t.Errorf("%s: %+v, want %s", path, b, at.balance)
			}
		}
	}
	e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/accounts/fx/entries", nil), http.StatusBadRequest, "validation_failed", "asset")
}
