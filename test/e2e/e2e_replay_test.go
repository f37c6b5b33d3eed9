package e2e_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// TestE2EReplayAnswersTheOriginal: a retry of a posted transfer, alone or
// in a batch, answers the transfer as its 201 did, member for member,
// even after part of it was reversed in between: a replay is the
// original outcome (DESIGN: "returns the original outcome"), not the
// transfer's state now, which GET /v1/transfers/{id} shows.
func TestE2EReplayAnswersTheOriginal(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "cust", "USD")
	l.openAccount(t, "shop", "USD")
	l.mint(t, "cust", "100.00")
	body := map[string]any{"id": "pay", "from": "cust", "to": "shop", "amount": "30", "asset": "USD", "reference": "order 7"}
	first := l.do(t, http.MethodPost, "/v1/transfers", body)
	if first.Status != http.StatusCreated {
		t.Fatalf("first: %s", first)
	}
	if r := l.do(t, http.MethodPost, "/v1/transfers/pay/reverse", map[string]any{"id": "r1", "amount": "10"}); r.Status != http.StatusCreated {
		t.Fatalf("reverse: %s", r)
	}
	l.settle(t)
	// What GET shows now: the reversal, and what remains.
	if got := e2eJSON[e2eReversed](t, l.do(t, http.MethodGet, "/v1/transfers/pay", nil), http.StatusOK); got.Reversible != "20.00" || len(got.Reversals) != 1 {
		t.Fatalf("GET: %+v", got)
	}

	want := members(t, first.Body)
	again := l.do(t, http.MethodPost, "/v1/transfers", body)
	if again.Status != http.StatusOK || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %s", again)
	}
	if got := members(t, again.Body); !reflect.DeepEqual(got, want) {
		t.Errorf("retry answers\n%s\nwhere the 201 was\n%s", again.Body, first.Body)
	}

	b := l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": []any{body}})
	var out struct {
		Results []struct {
			Status   int             `json:"status"`
			Replayed bool            `json:"replayed"`
			Transfer json.RawMessage `json:"transfer"`
		} `json:"results"`
	}
	if b.Status != http.StatusOK || json.Unmarshal(b.Body, &out) != nil || len(out.Results) != 1 ||
		out.Results[0].Status != http.StatusOK || !out.Results[0].Replayed {
		t.Fatalf("batch retry: %s", b)
	}
	if got := members(t, out.Results[0].Transfer); !reflect.DeepEqual(got, want) {
		t.Errorf("batch retry answers\n%s\nwhere the 201 was\n%s", out.Results[0].Transfer, first.Body)
	}
}

// members decodes a JSON object's members.
func members(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}
