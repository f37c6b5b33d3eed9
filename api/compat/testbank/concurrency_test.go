package testbank_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentDoubleSpend: many transactions from one account at once
// post exactly what its balance allows; the rest are refused as
// insufficient funds and nothing else goes wrong.
func TestConcurrentDoubleSpend(t *testing.T) {
	e := start(t)
	alice := e.newUser(t, "Alice", true)
	bob := e.newUser(t, "Bob", false)
	a := e.newAccount(t, alice, "A", "", "USD")
	b := e.newAccount(t, bob, "B", "PUBLIC", "USD")
	e.send(t, alice, "10.00", "", "ROOT", a.ID).one(t, http.StatusOK)
	const n = 20
	statuses := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i] = e.send(t, alice, "1.00", "", a.ID, b.ID) })
	}
	wg.Wait()
	posted := 0
	for _, r := range statuses {
		switch r.status {
		case http.StatusOK:
			posted++
		case http.StatusBadRequest:
			if !strings.Contains(string(r.body), "Insufficient funds") {
				t.Fatalf("refusal: %s", r.body)
			}
		default:
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	if posted != 10 || e.balance(t, alice, a.ID) != "0.00" || e.balance(t, bob, b.ID) != "10.00" {
		t.Fatalf("%d posted; balances %s, %s", posted, e.balance(t, alice, a.ID), e.balance(t, bob, b.ID))
	}
	e.l.Audit(t)
}

// TestConcurrentAccounts: accounts one user opens at once all land in its
// list (the store's revision-checked update retries), up to the limit.
func TestConcurrentAccounts(t *testing.T) {
	e := start(t)
	alice := e.newUser(t, "Alice", false)
	const n = 12
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := e.do(t, alice.Token, http.MethodPost, "/accounts", accountDoc("acc", "", "EUR"))
			if r.status == http.StatusOK {
				ids[i] = "ok"
			}
		})
	}
	wg.Wait()
	for i, id := range ids {
		if id == "" {
			t.Fatalf("account %d was not created", i)
		}
	}
	list, _ := e.do(t, alice.Token, http.MethodGet, "/accounts", "").many(t)
	if len(list) != n {
		t.Fatalf("%d accounts listed, want %d", len(list), n)
	}
	for range 50 - n {
		e.newAccount(t, alice, "more", "", "GBP")
	}
	e.do(t, alice.Token, http.MethodPost, "/accounts", accountDoc("one too many", "", "USD")).
		fails(t, http.StatusBadRequest, "VALIDATION_ERROR", "")
	if list, _ = e.do(t, alice.Token, http.MethodGet, "/accounts", "").many(t); len(list) != 50 {
		t.Fatalf("%d accounts after the limit", len(list))
	}
}

// TestHostileInput: oversized, truncated and odd requests are 4xx in
// Testbank's shape, never a 5xx, and move nothing.
func TestHostileInput(t *testing.T) {
	e := start(t)
	alice := e.newUser(t, "Alice", true)
	a := e.newAccount(t, alice, "A", "", "USD")
	e.send(t, alice, "1.00", "", "ROOT", a.ID).one(t, http.StatusOK)
	bodies := []string{
		strings.Repeat("x", 17<<10), `{"data":`, `[]`, `null`, `{"data":null}`, `{"data":{"type":"transactions","attributes":[]}}`,
		`{"data":{"type":"transactions","attributes":{"amount":"1.00"},"relationships":{"sender":{"data":null},"recipient":{}}}}`,
		txDoc("1.00", "", "../../etc", a.ID), txDoc("1.00", "", a.ID, "x.y>*"), txDoc("99999999999999999999999999999999999999999.00", "", "ROOT", a.ID),
		txDoc("1.00", "\u0000", "ROOT", a.ID),
	}
	for _, body := range bodies {
		r := e.do(t, alice.Token, http.MethodPost, "/transactions", body)
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("%.60q: %d %s", body, r.status, r.body)
		}
		r.must(t, r.status)
	}
	for _, path := range []string{"/transactions/%00", "/accounts/" + strings.Repeat("a", 5000), "/transactions?page[page]=99999999999999999999"} {
		if r := e.do(t, alice.Token, http.MethodGet, path, ""); r.status < 400 || r.status >= 500 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	if got := e.balance(t, alice, a.ID); got != "1.00" {
		t.Fatalf("balance %s", got)
	}
	e.l.Audit(t)
}
