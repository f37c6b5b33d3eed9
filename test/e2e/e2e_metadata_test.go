package e2e_test

import (
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// TestE2EAccountMetadata replaces an account's metadata through
// PATCH /v1/accounts/{id}: its owner may, an admin may, another user may
// not; the change is journaled as AccountMetadataUpdated, read back at
// once, moves no money, and opening the account again with its original
// body still answers 200.
func TestE2EAccountMetadata(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	alice := l.as(l.tokenFor(t, "alice", time.Hour, userScopes...))
	bob := l.as(l.tokenFor(t, "bob", time.Hour, userScopes...))
	opening := map[string]any{"id": "alice-main", "asset": "USD", "metadata": map[string]string{"tier": "silver"}}
	e2eJSON[e2eAccount](t, alice.do(t, http.MethodPost, "/v1/accounts", opening), http.StatusCreated)
	l.mint(t, "alice-main", "5.00")

	// The owner replaces it; the answer and a read show the new metadata.
	want := map[string]string{"tier": "gold", "region": "eu"}
	got := e2eJSON[e2eAccount](t, alice.do(t, http.MethodPatch, "/v1/accounts/alice-main", map[string]any{"metadata": want}), http.StatusOK)
	if !maps.Equal(got.Metadata, want) || got.Balance != "5.00" {
		t.Fatalf("after PATCH: %+v", got)
	}
	if read := l.account(t, "alice-main", ""); !maps.Equal(read.Metadata, want) {
		t.Fatalf("read back: %+v", read.Metadata)
	}

	// Someone else may not; nor may anyone touch an account that does not
	// exist, or send no metadata.
	e2eCheckProblem(t, bob.do(t, http.MethodPatch, "/v1/accounts/alice-main", map[string]any{"metadata": map[string]string{}}), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, alice.do(t, http.MethodPatch, "/v1/accounts/nobody", map[string]any{"metadata": map[string]string{}}), http.StatusNotFound, "account_not_found", "")
	e2eCheckProblem(t, alice.do(t, http.MethodPatch, "/v1/accounts/alice-main", map[string]any{}), http.StatusBadRequest, "validation_failed", "")
	e2eCheckProblem(t, alice.do(t, http.MethodPatch, "/v1/accounts/alice-main", map[string]any{"metadata": map[string]string{"": "x"}}), http.StatusBadRequest, "validation_failed", "metadata")

	// An admin clears it.
	got = e2eJSON[e2eAccount](t, l.do(t, http.MethodPatch, "/v1/accounts/alice-main", map[string]any{"metadata": map[string]string{}}), http.StatusOK)
	if len(got.Metadata) != 0 {
		t.Fatalf("after clearing: %+v", got.Metadata)
	}

	// Opening it again with its original body is still the same account.
	e2eJSON[e2eAccount](t, alice.do(t, http.MethodPost, "/v1/accounts", opening), http.StatusOK)

	// The journal has the two changes, naming their commands, and nothing moved.
	var updates []*domain.Event
	for _, ev := range l.journal(t) {
		if ev.Type == domain.EventAccountMetadataUpdated {
			updates = append(updates, ev)
		}
	}
	if len(updates) != 2 || updates[0].Metadata.Account != "alice-main" || !maps.Equal(updates[0].Metadata.Metadata, want) || updates[1].Metadata.Metadata != nil {
		t.Fatalf("journaled updates: %+v", updates)
	}
	if bal := l.account(t, "alice-main", "").Balance; bal != "5.00" {
		t.Fatalf("balance %s after metadata changes", bal)
	}
	l.checkZeroSum(t, "USD", "alice-main")
}
