package mercury_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestHostileRequests: no request, however malformed, gets a 5xx or moves
// money; each gets a text answer.
func TestHostileRequests(t *testing.T) {
	e := start(t)
	e.fund(t, "alice", "10", "Stipend")
	e.transact(t, `{"From":"alice","To":"bob","Amount":1,"Note":"opens bob"}`)
	before := e.posted(t)
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	for _, tc := range []struct{ name, method, path, body string }{
		{"empty body", "POST", "/transact", ""},
		{"truncated", "POST", "/transact", `{"From":"alice"`},
		{"not an object", "POST", "/transact", `[1,2]`},
		{"null", "POST", "/transact", `null`},
		{"negative amount", "POST", "/transact", `{"From":"alice","To":"bob","Amount":-1,"Note":"n"}`},
		{"fractional amount", "POST", "/transact", `{"From":"alice","To":"bob","Amount":1.5,"Note":"n"}`},
		{"string amount", "POST", "/transact", `{"From":"alice","To":"bob","Amount":"5","Note":"n"}`},
		{"amount past uint64", "POST", "/transact", `{"From":"alice","To":"bob","Amount":18446744073709551616,"Note":"n"}`},
		{"exponent amount", "POST", "/transact", `{"From":"alice","To":"bob","Amount":1e30,"Note":"n"}`},
		{"number as user", "POST", "/transact", `{"From":1,"To":"bob","Amount":1,"Note":"n"}`},
		{"user with a space", "POST", "/transact", `{"From":"al ice","To":"bob","Amount":1,"Note":"n"}`},
		{"user with a slash", "POST", "/transact", `{"From":"alice","To":"../world","Amount":1,"Note":"n"}`},
		{"user too long", "POST", "/transact", `{"From":"alice","To":"` + strings.Repeat("b", 60) + `","Amount":1,"Note":"n"}`},
		{"note with a control character", "POST", "/transact", `{"From":"alice","To":"bob","Amount":1,"Note":"a\u0000b"}`},
		{"note too long", "POST", "/transact", `{"From":"alice","To":"bob","Amount":1,"Note":"` + strings.Repeat("n", 513) + `"}`},
		{"huge body", "POST", "/transact", `{"From":"alice","To":"bob","Amount":1,"Note":"` + strings.Repeat("n", 1<<20) + `"}`},
		{"deep nesting", "POST", "/transact", `{"From":"alice","To":"bob","Amount":1,"Note":"n","Returns":` + deep + `}`},
		{"amount overflowing the recipient", "POST", "/transact", `{"From":"alice","To":"bob","Amount":18446744073709551615,"Note":"n"}`},
		{"unknown path", "GET", "/balance/alice", ""},
		{"wrong method", "GET", "/transact", ""},
		{"post to history", "POST", "/transactions/alice", `{}`},
		{"history of an impossible user", "GET", "/transactions/" + strings.Repeat("x", 300), ""},
		{"history of an escaped user", "GET", "/transactions/a%2Fb", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.send(t, tc.method, tc.path, tc.body)
			if r.status >= 500 || r.status == http.StatusOK && tc.method == "POST" {
				t.Fatalf("%d %q", r.status, r.body)
			}
			if r.status != http.StatusOK && !strings.HasPrefix(r.contentType, "text/plain") {
				t.Fatalf("%d answered as %s: %q", r.status, r.contentType, r.body)
			}
		})
	}
	if got := e.posted(t); got != before {
		t.Fatalf("posted transfers %d, want %d", got, before)
	}
	if a, b := e.balance(t, "alice"), e.balance(t, "bob"); a != "9.999999" || b != "0.000001" {
		t.Fatalf("balances alice %s bob %s", a, b)
	}
	e.l.Audit(t)
}

// TestConcurrentDoubleSpend sends 20 transfers of 1 unit at once from a
// user who has 7: exactly 7 post, 13 are refused with the balance
// message, and the balances and the journal agree.
func TestConcurrentDoubleSpend(t *testing.T) {
	e := start(t)
	e.fund(t, "alice", "7", "Stipend")
	const n = 20
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			replies[i] = e.send(t, http.MethodPost, "/transact", `{"From":"alice","To":"bob","Amount":1000000,"Note":"race"}`)
		})
	}
	wg.Wait()
	ok, refused := 0, 0
	for _, r := range replies {
		switch {
		case r.status == http.StatusOK:
			ok++
		case r.status == http.StatusBadRequest && strings.HasPrefix(r.body, "insufficient balance: balance was 0.000000 unit, at least 1.000000 unit is required"):
			refused++
		default:
			t.Errorf("unexpected answer %d %q", r.status, r.body)
		}
	}
	if ok != 7 || refused != n-7 {
		t.Fatalf("%d posted, %d refused; want 7 and %d", ok, refused, n-7)
	}
	if a, b := e.balance(t, "alice"), e.balance(t, "bob"); a != "0.000000" || b != "7.000000" {
		t.Fatalf("balances alice %s bob %s", a, b)
	}
	if got := e.posted(t); got != 8 { // the mint and 7 transfers
		t.Fatalf("the journal has %d posted transfers, want 8", got)
	}
	if h := e.history(t, "bob"); len(h) != 7 {
		t.Fatalf("bob's history has %d transactions, want 7", len(h))
	}
	e.l.Audit(t)
}

// TestHistoryIsTheUsersLast100: with more than 100 transactions of a
// user among others' transactions, the history is that user's own last
// 100, newest first.
func TestHistoryIsTheUsersLast100(t *testing.T) {
	e := start(t)
	e.fund(t, "alice", "1000", "Stipend")
	e.fund(t, "carol", "1000", "Stipend")
	const n = 105
	for i := range n {
		e.transact(t, `{"From":"alice","To":"bob","Amount":1,"Note":"n-`+itoa(i)+`"}`)
		e.transact(t, `{"From":"carol","To":"dave","Amount":1,"Note":"other"}`)
	}
	h := e.history(t, "bob")
	if len(h) != 100 {
		t.Fatalf("bob's history has %d transactions, want 100", len(h))
	}
	for i, tx := range h {
		if want := "n-" + itoa(n-1-i); str(t, tx["Note"]) != want {
			t.Fatalf("transaction %d is %q, want %q", i, str(t, tx["Note"]), want)
		}
	}
	e.l.Audit(t)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
