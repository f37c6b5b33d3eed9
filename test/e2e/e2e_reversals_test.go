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

// e2eReversed is a transfer as the API answers it, with what a reversal
// and a reversed original show (ADR 0023).
type e2eReversed struct {
	e2eTransfer
	Reverses  string `json:"reverses"`
	Reversals []struct {
		ID       string `json:"id"`
		Amount   string `json:"amount"`
		Sequence uint64 `json:"sequence"`
	} `json:"reversals"`
	Reversible string `json:"reversible"`
}

// TestE2EReversals reverses a payment over HTTP: in part by its
// recipient, then the rest by an admin (the amount omitted); a retry
// replays, another body under the id conflicts, more than remains is
// refused, the sender and strangers may not reverse, a reversal is not
// reversible, a recipient who spent the money cannot pay a reversal
// (journaled as a rejection); the original lists its reversals and what
// remains, the journal has each as a TransferPosted naming it, the audit
// passes, and after a restart the processor still knows what remains.
func TestE2EReversals(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	cust := l.as(l.tokenFor(t, "cust", time.Hour, userScopes...))
	shop := l.as(l.tokenFor(t, "shop", time.Hour, userScopes...))
	eve := l.as(l.tokenFor(t, "eve", time.Hour, userScopes...))
	for _, a := range []struct {
		who *e2eLedger
		id  string
	}{{cust, "cust"}, {shop, "shop"}, {eve, "eve"}} {
		e2eJSON[e2eAccount](t, a.who.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": a.id, "asset": "USD", "owner": a.id}), http.StatusCreated)
	}
	l.mint(t, "cust", "100.00")
	e2eJSON[e2eTransfer](t, cust.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "pay", "from": "cust", "to": "shop", "amount": "30", "reference": "order 7"}), http.StatusCreated)

	// Who may: the recipient (shop) or an admin; not the sender, not a stranger.
	e2eCheckProblem(t, cust.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"id": "r0"}), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, eve.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"id": "r0"}), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, shop.do(t, http.MethodPost, "/v1/transfers/nope/reverse", map[string]any{"id": "r0"}), http.StatusNotFound, "transfer_not_found", "")

	// A partial reversal by the recipient, with its Idempotency-Key.
	r1 := e2eJSON[e2eReversed](t, shop.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"amount": "10", "reference": "refund"}, "Idempotency-Key", "r1"), http.StatusCreated)
	if r1.ID != "r1" || r1.Reverses != "pay" || r1.From != "shop" || r1.To != "cust" || r1.Amount != "10.00" ||
		len(r1.Entries) != 2 || r1.Entries[0].Balance != "20.00" || r1.Entries[1].Balance != "80.00" {
		t.Fatalf("r1: %+v", r1)
	}
	// A retry replays; another body under the id conflicts.
	rr := shop.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"id": "r1", "amount": "10.00", "reference": "refund"})
	if got := e2eJSON[e2eReversed](t, rr, http.StatusOK); got.ID != "r1" || got.Reverses != "pay" || rr.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %s", rr)
	}
	e2eCheckProblem(t, shop.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"id": "r1", "amount": "11", "reference": "refund"}), http.StatusConflict, "idempotency_conflict", "")
	// More than remains is refused, and journals nothing.
	e2eCheckProblem(t, shop.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"id": "r2", "amount": "20.01"}), http.StatusUnprocessableEntity, "reversal_exceeds_transfer", "")
	l.settle(t)
	orig := e2eJSON[e2eReversed](t, cust.do(t, http.MethodGet, "/v1/transfers/pay", nil), http.StatusOK)
	if orig.Reversible != "20.00" || len(orig.Reversals) != 1 || orig.Reversals[0].ID != "r1" || orig.Reversals[0].Amount != "10.00" {
		t.Fatalf("the original after r1: %+v", orig)
	}
	// A reversal is not reversible.
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers/r1/reverse", map[string]any{"id": "r9"}), http.StatusUnprocessableEntity, "transfer_not_reversible", "")

	// The recipient spends what it got: it can no longer pay the rest back.
	e2eJSON[e2eTransfer](t, shop.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "spend", "from": "shop", "to": "eve", "amount": "15"}), http.StatusCreated)
	e2eCheckProblem(t, shop.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"id": "r2"}), http.StatusUnprocessableEntity, "insufficient_funds", "")
	l.settle(t)
	if r2 := e2eJSON[e2eReversed](t, shop.do(t, http.MethodGet, "/v1/transfers/r2", nil), http.StatusOK); r2.Status != "rejected" || r2.Reverses != "pay" || r2.Amount != "20.00" {
		t.Fatalf("r2: %+v", r2)
	}
	e2eJSON[e2eTransfer](t, eve.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "back", "from": "eve", "to": "shop", "amount": "15"}), http.StatusCreated)

	// A restart: the processor rebuilds from the journal and still knows
	// what remains of pay.
	dir := l.dataDir
	l.stop()
	l = e2eStartWith(t, node.Config{DataDir: dir})
	shop = l.as(l.tokenFor(t, "shop", time.Hour, userScopes...))
	e2eCheckProblem(t, shop.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"id": "r3", "amount": "20.01"}), http.StatusUnprocessableEntity, "reversal_exceeds_transfer", "")
	// The rest, by an admin, without an amount.
	r3 := e2eJSON[e2eReversed](t, l.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"id": "r3"}), http.StatusCreated)
	if r3.Amount != "20.00" || r3.Reverses != "pay" {
		t.Fatalf("r3: %+v", r3)
	}
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"id": "r4"}), http.StatusUnprocessableEntity, "reversal_exceeds_transfer", "")
	l.settle(t)
	orig = e2eJSON[e2eReversed](t, l.do(t, http.MethodGet, "/v1/transfers/pay", nil), http.StatusOK)
	if orig.Reversible != "0.00" || len(orig.Reversals) != 2 || orig.Reversals[1].ID != "r3" || orig.Reversals[1].Amount != "20.00" {
		t.Fatalf("the original after r3: %+v", orig)
	}
	if c, s := l.account(t, "cust", ""), l.account(t, "shop", ""); c.Balance != "100.00" || s.Balance != "0.00" {
		t.Fatalf("balances: cust %s, shop %s", c.Balance, s.Balance)
	}
	entries := e2ePageOf[e2eAccountEntry](t, l.do(t, http.MethodGet, "/v1/accounts/cust/entries", nil))
	if e := entries.Data[0]; e.TransferID != "r3" || e.Type != "credit" || e.Balance != "100.00" {
		t.Fatalf("cust's latest entry: %+v", e)
	}
	l.checkZeroSum(t, "USD", "cust", "shop", "eve")

	// The journal: each reversal a TransferPosted naming its original and
	// the remainder; r2's rejection names it too.
	var reversals []*domain.Event
	for _, ev := range l.journal(t) {
		switch {
		case ev.Type == domain.EventTransferPosted && ev.Transfer.Reverses != "":
			reversals = append(reversals, ev)
		case ev.Type == domain.EventTransferRejected && ev.Rejection.ID == "r2" && ev.Rejection.Reverses != "pay":
			t.Fatalf("journaled r2: %+v", ev.Rejection)
		}
	}
	if len(reversals) != 2 || reversals[0].Transfer.Reversal.Remaining != "20.00" || reversals[1].Transfer.Reversal.Remaining != "0.00" ||
		reversals[1].Transfer.Reversal.OriginalAmount != "30.00" {
		t.Fatalf("journaled reversals: %+v", reversals)
	}
	res, err := audit.Run(context.Background(), &audit.JetStreamSource{JS: l.node.JS, Names: l.node.Names}, audit.Options{})
	if err != nil || !res.Report.OK {
		t.Fatalf("audit: %v %v", err, res.Report.Findings)
	}
}
