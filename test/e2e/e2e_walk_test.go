package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestE2ECloseWithPendingHoldSaysWhy closes an account at zero that a
// pending hold pays into: the refusal (account_not_empty) says that a
// hold is pending, not that the account holds 0.00; once the hold is
// voided the account closes.
func TestE2ECloseWithPendingHoldSaysWhy(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	alice := l.as(l.tokenFor(t, "alice", time.Hour, userScopes...))
	for _, id := range []string{"alice", "dave"} {
		e2eJSON[e2eAccount](t, l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": id, "asset": "USD", "owner": id}), http.StatusCreated)
	}
	l.mint(t, "alice", "10.00")
	e2eJSON[e2eHold](t, alice.do(t, http.MethodPost, "/v1/transfers", hold("h", "alice", "dave", "4.00")), http.StatusCreated)
	p := e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/accounts/dave/close", nil), http.StatusConflict, "account_not_empty", "")
	if !strings.Contains(p.Detail, "pending hold") || strings.Contains(p.Detail, "holds 0.00") {
		t.Fatalf("detail %q does not say a hold is pending", p.Detail)
	}
	e2eJSON[e2eHold](t, alice.do(t, http.MethodPost, "/v1/transfers/h/void", nil), http.StatusOK)
	e2eJSON[e2eAccount](t, l.do(t, http.MethodPost, "/v1/accounts/dave/close", nil), http.StatusOK)
}

// TestE2EListingCursorNotIssued pages accounts and assets with a cursor
// the server did not issue that still decodes (base64 of bytes no id or
// code may hold): validation_failed naming the cursor, as the other
// listings and the API document answer, never an empty page that reads
// as "no more accounts". An issued cursor still pages.
func TestE2EListingCursorNotIssued(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.defineAsset(t, "EUR", 2)
	for _, id := range []string{"a1", "a2"} {
		e2eJSON[e2eAccount](t, l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": id, "asset": "USD"}), http.StatusCreated)
	}
	l.settle(t)
	for _, path := range []string{"/v1/accounts?cursor=zzz", "/v1/assets?cursor=zzz", "/v1/accounts?cursor=YSB4"} {
		e2eCheckProblem(t, l.do(t, http.MethodGet, path, nil), http.StatusBadRequest, "validation_failed", "cursor")
	}
	first := e2ePageOf[e2eAccount](t, l.do(t, http.MethodGet, "/v1/accounts?limit=1", nil))
	if len(first.Data) != 1 || first.NextCursor == nil {
		t.Fatalf("first page: %+v", first)
	}
	next := e2ePageOf[e2eAccount](t, l.do(t, http.MethodGet, "/v1/accounts?limit=1&cursor="+*first.NextCursor, nil))
	if len(next.Data) != 1 || next.Data[0].ID == first.Data[0].ID {
		t.Fatalf("second page: %+v after %+v", next, first)
	}
}

// TestE2ERejectionSupersededAcrossKinds refuses a transaction and then
// posts a transfer under its id (a refusal does not spend an id, and
// transfers and transactions share one id space), and the other way
// round: the id then reads as what was posted, and the refusal of the
// other kind is no longer shown as that id's outcome.
func TestE2ERejectionSupersededAcrossKinds(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	for _, id := range []string{"a", "b"} {
		e2eJSON[e2eAccount](t, l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": id, "asset": "USD"}), http.StatusCreated)
	}
	leg := func(amount string) map[string]any {
		return map[string]any{"legs": []map[string]any{{"from": "a", "to": "b", "amount": amount}}}
	}
	tx := leg("5.00")
	tx["id"] = "x1"
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transactions", tx), http.StatusUnprocessableEntity, "insufficient_funds", "")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "x2", "from": "a", "to": "b", "amount": "5.00"}),
		http.StatusUnprocessableEntity, "insufficient_funds", "")
	l.mint(t, "a", "10.00")
	e2eJSON[e2eTransfer](t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "x1", "from": "a", "to": "b", "amount": "1.00"}), http.StatusCreated)
	tx = leg("2.00")
	tx["id"] = "x2"
	e2eJSON[map[string]any](t, l.do(t, http.MethodPost, "/v1/transactions", tx), http.StatusCreated)
	l.settle(t)
	if got := e2eJSON[e2eTransfer](t, l.do(t, http.MethodGet, "/v1/transfers/x1", nil), http.StatusOK); got.Status != "posted" {
		t.Fatalf("x1: %+v", got)
	}
	e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/transactions/x1", nil), http.StatusNotFound, "transfer_not_found", "")
	if got := e2eJSON[map[string]any](t, l.do(t, http.MethodGet, "/v1/transactions/x2", nil), http.StatusOK); got["status"] != "posted" {
		t.Fatalf("x2: %+v", got)
	}
	e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/transfers/x2", nil), http.StatusNotFound, "transfer_not_found", "")
}
