package e2e_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// TestE2EMemo posts a transfer of nothing ("memo": true, amount 0) through
// POST /v1/transfers: 201 with entries of zero, read back with the flag,
// in both accounts' histories, journaled with the flag, and no balance
// moves. Zero without the flag, and a memo of something, are 400
// invalid_amount and journal no transfer; a memo from another's account is
// 403 as any transfer is.
func TestE2EMemo(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "shop", "USD")
	l.openAccount(t, "buyer", "USD")
	l.mint(t, "shop", "3.00")

	tr := l.post(t, map[string]any{"id": "free-hat", "from": "shop", "to": "buyer", "amount": "0", "memo": true,
		"reference": "free hat", "metadata": map[string]string{"item": "hat"}})
	if !tr.Memo || tr.Amount != "0.00" || tr.Entries[0].Balance != "3.00" || tr.Entries[1].Balance != "0.00" {
		t.Fatalf("posted memo: %+v", tr)
	}
	read := e2eJSON[e2eTransfer](t, l.do(t, http.MethodGet, "/v1/transfers/free-hat", nil), http.StatusOK)
	if !read.Memo || read.Amount != "0.00" || read.Reference != "free hat" {
		t.Fatalf("read back: %+v", read)
	}
	for _, acc := range []string{"shop", "buyer"} {
		page := e2ePageOf[e2eAccountEntry](t, l.do(t, http.MethodGet, "/v1/accounts/"+acc+"/entries", nil))
		if len(page.Data) == 0 || page.Data[0].TransferID != "free-hat" || page.Data[0].Amount != "0.00" {
			t.Fatalf("%s's entries: %+v", acc, page.Data)
		}
	}
	// The same request again is a replay; the id with an amount is a conflict.
	r := l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "free-hat", "from": "shop", "to": "buyer", "amount": "0.00", "memo": true,
		"reference": "free hat", "metadata": map[string]string{"item": "hat"}})
	if again := e2eJSON[e2eTransfer](t, r, http.StatusOK); again.Sequence != tr.Sequence || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s", r)
	}
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "free-hat", "from": "shop", "to": "buyer", "amount": "1"}),
		http.StatusConflict, "idempotency_conflict", "")

	before := len(l.journal(t))
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "shop", "to": "buyer", "amount": "0"}),
		http.StatusBadRequest, "invalid_amount", "")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "shop", "to": "buyer", "amount": "0.01", "memo": true}),
		http.StatusBadRequest, "invalid_amount", "")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "shop", "to": "buyer", "amount": 0, "memo": "yes"}),
		http.StatusBadRequest, "validation_failed", "")
	buyer := l.as(l.tokenFor(t, "mallory", time.Hour, userScopes...))
	e2eCheckProblem(t, buyer.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "shop", "to": "buyer", "amount": "0", "memo": true}),
		http.StatusForbidden, "forbidden", "")
	journal := l.journal(t)
	for _, ev := range journal[before:] {
		// A refusal that reached the processor leaves CommandSkipped
		// (ADR 0011); none leaves a transfer.
		if ev.Transfer != nil || ev.Rejection != nil {
			t.Fatalf("a refusal journaled %+v", ev)
		}
	}
	var memos int
	for _, ev := range journal {
		if ev.Type == domain.EventTransferPosted && ev.Transfer.Memo {
			memos++
		}
	}
	if memos != 1 {
		t.Fatalf("%d memos journaled, want 1", memos)
	}
	if bal := l.account(t, "shop", "").Balance; bal != "3.00" {
		t.Fatalf("shop %s", bal)
	}
	l.checkZeroSum(t, "USD", "shop", "buyer")
}
