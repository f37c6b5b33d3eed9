package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
)

// e2eRate is a rate as PUT /v1/rates/{base}/{quote} and GET /v1/rates
// answer it.
type e2eRate struct {
	Base     string `json:"base"`
	Quote    string `json:"quote"`
	Rate     string `json:"rate"`
	Sequence uint64 `json:"sequence"`
}

// TestE2ECrossCurrency converts between a USD and a EUR account over
// HTTP (ADR 0019): without a rate it is refused; a non-admin may not set
// one; an admin sets USD/EUR (EUR/USD stays unset); the conversion posts
// four entries through the FX account, rounded down at EUR's scale; both
// sides read their own side; a replay answers the original posting even
// after the rate changed; another rate under the same id conflicts;
// insufficient funds are refused and journaled with the rate given; every
// asset sums to zero with the FX positions, and the audit passes.
func TestE2ECrossCurrency(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.defineAsset(t, "EUR", 2)
	alice := l.as(l.tokenFor(t, "alice", time.Hour, append(userScopes, api.ScopeAssetsWrite)...))
	bob := l.as(l.tokenFor(t, "bob", time.Hour, userScopes...))
	e2eJSON[e2eAccount](t, alice.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "alice-usd", "asset": "USD", "owner": "alice"}), http.StatusCreated)
	e2eJSON[e2eAccount](t, bob.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "bob-eur", "asset": "EUR", "owner": "bob"}), http.StatusCreated)
	l.mint(t, "alice-usd", "100.00")
	convert := func(id, amount string, rate any) map[string]any {
		body := map[string]any{"id": id, "from": "alice-usd", "to": "bob-eur", "amount": amount}
		if rate != nil {
			body["exchange_rate"] = rate
		}
		return body
	}

	// No rate yet; a user may not set one (the processor refuses it).
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", convert("x0", "10", nil)), http.StatusUnprocessableEntity, "rate_not_found", "")
	e2eCheckProblem(t, alice.do(t, http.MethodPut, "/v1/rates/USD/EUR", map[string]any{"rate": "2"}), http.StatusForbidden, "forbidden", "")
	rate := e2eJSON[e2eRate](t, l.do(t, http.MethodPut, "/v1/rates/USD/EUR", map[string]any{"rate": "0.91550"}), http.StatusOK)
	if rate.Rate != "0.9155" || rate.Base != "USD" || rate.Quote != "EUR" {
		t.Fatalf("rate set: %+v", rate)
	}
	l.settle(t)
	rates := e2eJSON[struct{ Data []e2eRate }](t, alice.do(t, http.MethodGet, "/v1/rates", nil), http.StatusOK)
	if len(rates.Data) != 1 || rates.Data[0].Rate != "0.9155" {
		t.Fatalf("rates: %+v", rates.Data)
	}
	// Inverse rates are not implied.
	e2eCheckProblem(t, bob.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "bob-eur", "to": "alice-usd", "amount": "1"}),
		http.StatusUnprocessableEntity, "rate_not_found", "")

	// 10.00 USD at 0.9155 is 9.155 EUR: bob gets 9.15, the FX position
	// keeps the half cent.
	x1 := e2eJSON[e2eTransfer](t, alice.do(t, http.MethodPost, "/v1/transfers", convert("x1", "10", nil)), http.StatusCreated)
	want := []e2eEntry{
		{Account: "alice-usd", Type: "debit", Amount: "10.00", Balance: "90.00"},
		{Account: "fx", Type: "credit", Amount: "10.00", Balance: "10.00"},
		{Account: "fx", Type: "debit", Amount: "9.15", Balance: "-9.15"},
		{Account: "bob-eur", Type: "credit", Amount: "9.15", Balance: "9.15"},
	}
	checkConverted := func(what string, got e2eTransfer) {
		t.Helper()
		if got.ID != "x1" || got.Status != "posted" || got.Amount != "10.00" || got.Asset != "USD" || got.ExchangeRate != "0.9155" ||
			got.ToAsset != "EUR" || got.ToAmount != "9.15" || len(got.Entries) != 4 {
			t.Fatalf("%s: %+v", what, got)
		}
		for i := range want {
			if got.Entries[i] != want[i] {
				t.Fatalf("%s: entry %d %+v, want %+v", what, i, got.Entries[i], want[i])
			}
		}
	}
	checkConverted("answer", x1)
	l.settle(t)
	checkConverted("alice's read", e2eJSON[e2eTransfer](t, alice.do(t, http.MethodGet, "/v1/transfers/x1", nil), http.StatusOK))
	checkConverted("bob's read", e2eJSON[e2eTransfer](t, bob.do(t, http.MethodGet, "/v1/transfers/x1", nil), http.StatusOK))
	for _, side := range []struct {
		who                  *e2eLedger
		account              string
		typ, amount, balance string
	}{{alice, "alice-usd", "debit", "10.00", "90.00"}, {bob, "bob-eur", "credit", "9.15", "9.15"}} {
		page := e2ePageOf[e2eAccountEntry](t, side.who.do(t, http.MethodGet, "/v1/accounts/"+side.account+"/entries", nil))
		if e := page.Data[0]; e.TransferID != "x1" || e.Type != side.typ || e.Amount != side.amount || e.Balance != side.balance {
			t.Fatalf("%s's entry: %+v", side.account, e)
		}
	}
	if fx := l.account(t, "fx", "EUR"); fx.Balance != "-9.15" || fx.OverdraftLimit != domain.Unlimited || fx.Owner != "" {
		t.Fatalf("FX in EUR: %+v", fx)
	}
	fxEntries := e2ePageOf[e2eAccountEntry](t, l.do(t, http.MethodGet, "/v1/accounts/fx/entries?asset=USD", nil))
	if len(fxEntries.Data) != 1 || fxEntries.Data[0].Type != "credit" || fxEntries.Data[0].Balance != "10.00" {
		t.Fatalf("FX entries in USD: %+v", fxEntries.Data)
	}
	e2eCheckProblem(t, alice.do(t, http.MethodGet, "/v1/accounts/fx?asset=USD", nil), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "fx", "to": "bob-eur", "amount": "1", "asset": "EUR"}),
		http.StatusBadRequest, "validation_failed", "from")

	// The rate changes; x1 replayed answers its original posting.
	e2eJSON[e2eRate](t, l.do(t, http.MethodPut, "/v1/rates/USD/EUR", map[string]any{"rate": "0.5"}), http.StatusOK)
	r := alice.do(t, http.MethodPost, "/v1/transfers", convert("x1", "10.00", nil))
	checkConverted("replay", e2eJSON[e2eTransfer](t, r, http.StatusOK))
	if r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s", r)
	}
	// The same id with a rate of its own, or another asset, conflicts.
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", convert("x1", "10", "0.9155")), http.StatusConflict, "idempotency_conflict", "")
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "x1", "from": "alice-usd", "to": "bob-eur", "amount": "10", "asset": "EUR"}),
		http.StatusConflict, "idempotency_conflict", "")
	// An explicit rate (a JSON number, read exactly) replays with the same rate.
	x2 := e2eJSON[e2eTransfer](t, alice.do(t, http.MethodPost, "/v1/transfers", convert("x2", "20", 1.1)), http.StatusCreated)
	if x2.ToAmount != "22.00" || x2.ExchangeRate != "1.1" {
		t.Fatalf("x2: %+v", x2)
	}
	e2eJSON[e2eTransfer](t, alice.do(t, http.MethodPost, "/v1/transfers", convert("x2", "20.00", "1.10")), http.StatusOK)

	// A batch item converts too, at the table's current rate, beside an
	// item of one asset.
	batch := e2eJSON[struct {
		Results []struct {
			Status   int          `json:"status"`
			Transfer *e2eTransfer `json:"transfer"`
		} `json:"results"`
	}](t, alice.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": []any{
		convert("b1", "1.99", nil),
		map[string]any{"id": "b2", "from": "bob-eur", "to": "fx", "amount": "1", "asset": "EUR"},
	}}), http.StatusOK)
	if r := batch.Results; len(r) != 2 || r[0].Status != http.StatusCreated || r[0].Transfer.ToAmount != "0.99" || r[0].Transfer.ExchangeRate != "0.5" ||
		len(r[0].Transfer.Entries) != 4 || r[1].Status != http.StatusBadRequest {
		t.Fatalf("batch: %+v", batch.Results)
	}

	// Insufficient funds: refused and journaled with the rate given.
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", convert("x3", "1000", "0.9")), http.StatusUnprocessableEntity, "insufficient_funds", "")
	l.settle(t)
	if x3 := e2eJSON[e2eTransfer](t, alice.do(t, http.MethodGet, "/v1/transfers/x3", nil), http.StatusOK); x3.Status != "rejected" || x3.ExchangeRate != "0.9" {
		t.Fatalf("x3: %+v", x3)
	}

	// Every asset sums to zero with its FX position, as the journal and
	// the audit have it.
	// alice: 100 - 10 - 20 - 1.99; bob: 9.15 + 22 + 0.99.
	if a, b := l.account(t, "alice-usd", ""), l.account(t, "bob-eur", ""); a.Balance != "68.01" || b.Balance != "32.14" {
		t.Fatalf("balances: alice %s, bob %s", a.Balance, b.Balance)
	}
	l.checkZeroSum(t, "USD", "alice-usd", "fx")
	l.checkZeroSum(t, "EUR", "bob-eur", "fx")
	var converted, rateSets int
	for _, ev := range l.journal(t) {
		switch {
		case ev.Type == domain.EventTransferConverted && ev.Conversion.ID == "x1":
			converted++
			if ev.Conversion.RateFrom != domain.RateFromTable || ev.Conversion.Entries[3].Amount != "9.15" {
				t.Fatalf("journaled x1: %+v", ev.Conversion)
			}
		case ev.Type == domain.EventRateSet:
			rateSets++
		case ev.Type == domain.EventTransferRejected && ev.Rejection.ID == "x3" && ev.Rejection.ExchangeRate != "0.9":
			t.Fatalf("journaled x3: %+v", ev.Rejection)
		}
	}
	if converted != 1 || rateSets != 2 {
		t.Fatalf("journal: %d conversions of x1, %d rates set", converted, rateSets)
	}
	res, err := audit.Run(context.Background(), &audit.JetStreamSource{JS: l.node.JS, Names: l.node.Names}, audit.Options{})
	if err != nil || !res.Report.OK {
		t.Fatalf("audit: %v %v", err, res.Report.Findings)
	}
}
