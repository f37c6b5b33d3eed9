package e2e_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestE2EIdempotency checks replays and conflicts through the body's id,
// the Idempotency-Key header, and amounts written in different ways.
func TestE2EIdempotency(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	mint := l.mint(t, "alice", "100.00")

	// replay checks that r is a 200 replay of the original outcome.
	replay := func(t *testing.T, r e2eResp, orig e2eTransfer) {
		t.Helper()
		got := e2eJSON[e2eTransfer](t, r, http.StatusOK)
		if h := r.Header.Get("Idempotent-Replayed"); h != "true" {
			t.Errorf("%s: Idempotent-Replayed %q, want true", r, h)
		}
		if got.ID != orig.ID || got.Status != "posted" || got.Sequence != orig.Sequence || got.Amount != orig.Amount ||
			fmt.Sprint(got.Entries) != fmt.Sprint(orig.Entries) || got.PostedAt == nil || !got.PostedAt.Equal(*orig.PostedAt) {
			t.Errorf("replay %+v, want the original %+v", got, orig)
		}
	}
	var originals []e2eTransfer

	t.Run("body id", func(t *testing.T) {
		body := `{"id":"idem-1","from":"alice","to":"bob","amount":"10.00","reference":"rent"}`
		first := l.post(t, body)
		originals = append(originals, first)
		replay(t, l.do(t, http.MethodPost, "/v1/transfers", body), first)
		replay(t, l.do(t, http.MethodPost, "/v1/transfers", body), first)
		for _, diff := range []string{
			`{"id":"idem-1","from":"alice","to":"bob","amount":"10.01","reference":"rent"}`,
			`{"id":"idem-1","from":"alice","to":"bob","amount":"10.00","reference":"rent!"}`,
			`{"id":"idem-1","from":"bob","to":"alice","amount":"10.00","reference":"rent"}`,
			`{"id":"idem-1","from":"alice","to":"bob","amount":"10.00","reference":"rent","metadata":{"k":"v"}}`,
		} {
			e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", diff), http.StatusConflict, "idempotency_conflict", "")
		}
	})

	t.Run("Idempotency-Key header", func(t *testing.T) {
		body := `{"from":"alice","to":"bob","amount":"5.00"}`
		r := l.do(t, http.MethodPost, "/v1/transfers", body, "Idempotency-Key", "key-1")
		first := e2eJSON[e2eTransfer](t, r, http.StatusCreated)
		if first.ID != "key-1" || r.Header.Get("Location") != "/v1/transfers/key-1" {
			t.Errorf("posted with Idempotency-Key key-1: id %q, Location %q", first.ID, r.Header.Get("Location"))
		}
		originals = append(originals, first)
		replay(t, l.do(t, http.MethodPost, "/v1/transfers", body, "Idempotency-Key", "key-1"), first)
		// The same id given in the body and the header is the same request.
		replay(t, l.do(t, http.MethodPost, "/v1/transfers", `{"id":"key-1","from":"alice","to":"bob","amount":"5.00"}`,
			"Idempotency-Key", "key-1"), first)
		replay(t, l.do(t, http.MethodPost, "/v1/transfers", `{"id":"key-1","from":"alice","to":"bob","amount":"5.00"}`), first)
		e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", `{"from":"alice","to":"bob","amount":"6.00"}`, "Idempotency-Key", "key-1"),
			http.StatusConflict, "idempotency_conflict", "")
		e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", `{"id":"key-2","from":"alice","to":"bob","amount":"5.00"}`, "Idempotency-Key", "key-1"),
			http.StatusBadRequest, "validation_failed", "id")
	})

	t.Run("amount as a JSON number", func(t *testing.T) {
		first := l.post(t, `{"id":"num-1","from":"alice","to":"bob","amount":25.5}`)
		if first.Amount != "25.50" || first.Entries[0].Amount != "25.50" {
			t.Errorf("amount 25.5 posted as %q", first.Amount)
		}
		originals = append(originals, first)
		for _, same := range []string{`25.50`, `"25.50"`, `"25.5"`, `25.5`} {
			replay(t, l.do(t, http.MethodPost, "/v1/transfers", `{"id":"num-1","from":"alice","to":"bob","amount":`+same+`}`), first)
		}
		for _, diff := range []string{`25.51`, `"25.49"`, `2550`} {
			e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", `{"id":"num-1","from":"alice","to":"bob","amount":`+diff+`}`),
				http.StatusConflict, "idempotency_conflict", "")
		}
		exact := l.post(t, `{"from":"alice","to":"bob","amount":0.10}`)
		if exact.Amount != "0.10" {
			t.Errorf("amount 0.10 posted as %q", exact.Amount)
		}
		originals = append(originals, exact)
	})

	t.Run("generated ids", func(t *testing.T) {
		body := `{"from":"alice","to":"bob","amount":"1.00"}`
		a, b := l.post(t, body), l.post(t, body)
		if a.ID == "" || a.ID == b.ID {
			t.Errorf("two requests without an id got ids %q and %q", a.ID, b.ID)
		}
		originals = append(originals, a, b)
	})

	// 100 - 10 - 5 - 25.50 - 0.10 - 1 - 1: each posting moved money once.
	if a := l.account(t, "alice", ""); a.Balance != "57.40" {
		t.Errorf("alice's balance %s, want 57.40", a.Balance)
	}
	j := l.journal(t)
	j.checkPosted(t, mint)
	for _, tr := range originals {
		j.checkPosted(t, tr)
	}
	l.checkZeroSum(t, "USD", "alice", "bob")
}
