package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/node"
)

// e2eTransaction is a transaction as the API answers it (ADR 0023).
type e2eTransaction struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Reference string `json:"reference"`
	Legs      []struct {
		From, To, Amount, Asset, Reference string
		Entries                            []e2eEntry `json:"entries"`
	} `json:"legs"`
	Sequence uint64 `json:"sequence"`
	Hash     string `json:"hash"`
	Leg      *int   `json:"leg"`
	Code     string `json:"code"`
}

// TestE2ETransactions posts multi-leg transactions over HTTP: a payment
// and its fee, and a split whose second leg spends what the first
// credited; a retry replays and another body conflicts; a leg refused
// (insufficient funds, or not the token's account) moves nothing and the
// rejection names the leg; each leg's entries are in the accounts'
// histories; after a restart the id is still spent and the balances
// hold; the journal has one event per transaction and the audit passes.
func TestE2ETransactions(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	cust := l.as(l.tokenFor(t, "cust", time.Hour, userScopes...))
	for _, id := range []string{"cust", "shop", "fees", "partner"} {
		e2eJSON[e2eAccount](t, l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": id, "asset": "USD", "owner": id}), http.StatusCreated)
	}
	l.mint(t, "cust", "100.00")
	leg := func(from, to, amount string) map[string]any {
		return map[string]any{"from": from, "to": to, "amount": amount}
	}

	// A payment and its fee: one event, two legs, entries in order.
	pay := map[string]any{"id": "tx1", "reference": "order 9", "legs": []any{leg("cust", "shop", "20"), leg("cust", "fees", "0.50")}}
	tx1 := e2eJSON[e2eTransaction](t, cust.do(t, http.MethodPost, "/v1/transactions", pay), http.StatusCreated)
	if tx1.Status != "posted" || len(tx1.Legs) != 2 || tx1.Legs[0].Entries[0].Balance != "80.00" || tx1.Legs[1].Entries[0].Balance != "79.50" ||
		tx1.Legs[1].Entries[1] != (e2eEntry{Account: "fees", Type: "credit", Amount: "0.50", Balance: "0.50"}) {
		t.Fatalf("tx1: %+v", tx1)
	}
	if ev := l.journal(t)[tx1.Sequence-1]; ev.Type != domain.EventTransactionPosted || len(tx1.Hash) != 64 || tx1.Hash != ev.Hash {
		t.Fatalf("tx1's hash %q, the journal's event at %d: %s %s", tx1.Hash, tx1.Sequence, ev.Type, ev.Hash)
	}
	r := cust.do(t, http.MethodPost, "/v1/transactions", pay)
	if got := e2eJSON[e2eTransaction](t, r, http.StatusOK); got.ID != "tx1" || got.Sequence != tx1.Sequence || got.Hash != tx1.Hash || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %s", r)
	}
	pay["reference"] = "order 10"
	e2eCheckProblem(t, cust.do(t, http.MethodPost, "/v1/transactions", pay), http.StatusConflict, "idempotency_conflict", "")

	// A split: the second leg spends what the first credited to shop.
	split := map[string]any{"id": "tx2", "legs": []any{leg("cust", "shop", "30"), leg("shop", "partner", "45")}}
	tx2 := e2eJSON[e2eTransaction](t, l.do(t, http.MethodPost, "/v1/transactions", split), http.StatusCreated)
	if tx2.Legs[1].Entries[0].Balance != "5.00" || tx2.Legs[1].Entries[1].Balance != "45.00" {
		t.Fatalf("tx2: %+v", tx2)
	}

	// One leg refused: nothing moves, the rejection names the leg.
	bad := map[string]any{"id": "tx3", "legs": []any{leg("cust", "fees", "1"), leg("cust", "shop", "1000")}}
	p := e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transactions", bad), http.StatusUnprocessableEntity, "insufficient_funds", "")
	if p.Detail == "" || p.Detail[:5] != "leg 1" {
		t.Fatalf("tx3: %+v", p)
	}
	e2eCheckProblem(t, cust.do(t, http.MethodPost, "/v1/transactions", map[string]any{"id": "tx4", "legs": []any{leg("cust", "fees", "1"), leg("shop", "cust", "1")}}),
		http.StatusForbidden, "forbidden", "")
	l.settle(t)
	tx3 := e2eJSON[e2eTransaction](t, l.do(t, http.MethodGet, "/v1/transactions/tx3", nil), http.StatusOK)
	if tx3.Status != "rejected" || tx3.Leg == nil || *tx3.Leg != 1 || tx3.Code != "insufficient_funds" || tx3.Hash != l.journal(t)[tx3.Sequence-1].Hash {
		t.Fatalf("tx3 read: %+v", tx3)
	}
	want := map[string]string{"cust": "49.50", "shop": "5.00", "fees": "0.50", "partner": "45.00"}
	check := func(when string) {
		t.Helper()
		for id, bal := range want {
			if a := l.account(t, id, ""); a.Balance != bal {
				t.Fatalf("%s: %s has %s, want %s", when, id, a.Balance, bal)
			}
		}
		l.checkZeroSum(t, "USD", "cust", "shop", "fees", "partner")
	}
	check("after tx3")
	// Each leg's entries are in the accounts' histories, newest first.
	shop := e2ePageOf[e2eAccountEntry](t, l.do(t, http.MethodGet, "/v1/accounts/shop/entries", nil))
	if len(shop.Data) != 3 || shop.Data[0].TransferID != "tx2" || shop.Data[0].Type != "debit" || shop.Data[0].Balance != "5.00" ||
		shop.Data[1].TransferID != "tx2" || shop.Data[1].Type != "credit" || shop.Data[1].Balance != "50.00" ||
		shop.Data[2].TransferID != "tx1" || shop.Data[2].Reference != "order 9" {
		t.Fatalf("shop's entries: %+v", shop.Data)
	}
	got := e2eJSON[e2eTransaction](t, cust.do(t, http.MethodGet, "/v1/transactions/tx1", nil), http.StatusOK)
	if got.Status != "posted" || len(got.Legs) != 2 || got.Legs[1].Entries[1].Balance != "0.50" {
		t.Fatalf("tx1 read: %+v", got)
	}
	// Transfer listings show transfers only.
	if page := e2ePageOf[e2eTransfer](t, l.do(t, http.MethodGet, "/v1/transfers?account=shop", nil)); len(page.Data) != 0 {
		t.Fatalf("transfers of shop: %+v", page.Data)
	}

	// A restart keeps both: the id is spent, the balances hold.
	dir := l.dataDir
	l.stop()
	l = e2eStartWith(t, node.Config{DataDir: dir})
	pay["reference"] = "order 9"
	if r := l.do(t, http.MethodPost, "/v1/transactions", pay); r.Status != http.StatusOK {
		t.Fatalf("retry after the restart: %s", r)
	}
	check("after the restart")

	var posted, rejected int
	for _, ev := range l.journal(t) {
		switch ev.Type {
		case domain.EventTransactionPosted:
			posted++
		case domain.EventTransactionRejected:
			rejected++
			if ev.TransactionRejection.Leg != 1 || ev.TransactionRejection.Code != domain.CodeInsufficientFunds {
				t.Fatalf("journaled rejection: %+v", ev.TransactionRejection)
			}
		}
	}
	if posted != 2 || rejected != 1 {
		t.Fatalf("journal: %d transactions posted, %d rejected", posted, rejected)
	}
	res, err := audit.Run(context.Background(), &audit.JetStreamSource{JS: l.node.JS, Names: l.node.Names}, audit.Options{})
	if err != nil || !res.Report.OK {
		t.Fatalf("audit: %v %v", err, res.Report.Findings)
	}
}
