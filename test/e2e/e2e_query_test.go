package e2e_test

import (
	"net/http"
	"testing"
)

// A single-valued query parameter given twice is refused, naming it,
// rather than cut to its first value; the event types of the event
// stream may repeat.
func TestE2ERepeatedQueryParameters(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "a", "USD")
	for path, field := range map[string]string{
		"/v1/transfers?account=a&account=b":      "account",
		"/v1/transfers?limit=5&limit=6":          "limit",
		"/v1/accounts/a/entries?limit=1&limit=2": "limit",
		"/v1/accounts/a/balance?as_of=1&as_of=2": "as_of",
		"/v1/events?account=a&account=b":         "account",
	} {
		r := l.do(t, http.MethodGet, path, nil)
		e2eCheckProblem(t, r, http.StatusBadRequest, "validation_failed", field)
	}
	r := l.do(t, http.MethodGet, "/v1/transfers?account=a", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("a single account filter: %s", r)
	}
}
