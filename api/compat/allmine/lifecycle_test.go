package allmine_test

import (
	"net/http"
	"strings"
	"testing"
)

// A seed adapter's transfers meet the account lifecycle (ADR 0024) as the
// native API's do, decided by the same processor: a frozen sender or a
// closed recipient is refused 409 with the native detail, and nothing
// moves.
func TestFrozenAndClosedAccounts(t *testing.T) {
	f := start(t)
	f.openUser(t, "alice", "100")
	f.openUser(t, "bob", "")
	f.openUser(t, "carol", "")
	alice := f.token(t, "alice")

	f.l.Must(t, http.StatusOK, http.MethodPost, "/v1/accounts/allmine:alice/freeze", map[string]any{"frozen": "debits"})
	status, body := f.post(t, alice, transferBody("bob", "5"))
	if status != http.StatusConflict || !strings.Contains(string(body), "account allmine:alice is frozen") {
		t.Fatalf("a debit of a frozen account: %d %s", status, body)
	}
	f.l.Must(t, http.StatusOK, http.MethodPost, "/v1/accounts/allmine:alice/unfreeze", nil)
	f.l.Must(t, http.StatusOK, http.MethodPost, "/v1/accounts/allmine:carol/close", nil)
	status, body = f.post(t, alice, transferBody("carol", "5"))
	if status != http.StatusConflict || !strings.Contains(string(body), "account allmine:carol is closed") {
		t.Fatalf("a credit of a closed account: %d %s", status, body)
	}
	if status, body := f.post(t, alice, transferBody("bob", "5")); status != http.StatusOK {
		t.Fatalf("after unfreezing: %d %s", status, body)
	}
	if got := f.balance(t, "alice"); got != "95.00" {
		t.Fatalf("alice's balance %s, want 95.00", got)
	}
}
