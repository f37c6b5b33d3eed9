package testbank_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"
)

var txIDRE = regexp.MustCompile(`^[0-9a-z]{10}$`)

// TestSeedExamples replays seed 004's examples: crediting an account from
// ROOT, a transfer between two accounts, emptying an account into ROOT,
// and reading the transactions back, in Testbank's shapes.
func TestSeedExamples(t *testing.T) {
	e := start(t)
	ping := e.do(t, "", http.MethodGet, "/", "").must(t, http.StatusOK)
	if ping.Meta["name"] != "Testbank API" {
		t.Fatalf("ping: %+v", ping.Meta)
	}
	alice := e.newUser(t, "Alice", true)
	bob := e.newUser(t, "Bob", false)
	main := e.newAccount(t, alice, "Main", "", "USD")
	if main.Type != "accounts" || !txIDRE.MatchString(main.ID) || main.Attributes["visibility"] != "UNLISTED" ||
		main.rel("currency") != "USD" || main.Meta["balanceTotal"] != "0.00" {
		t.Fatalf("account: %+v", main)
	}
	savings := e.newAccount(t, alice, "Savings", "PRIVATE", "USD")
	bobs := e.newAccount(t, bob, "Bob's", "PUBLIC", "USD")

	// Crediting your account: ROOT as the sender.
	before := time.Now().UTC().Add(-time.Second)
	credit := e.send(t, alice, "100.00", "opening", "ROOT", main.ID).one(t, http.StatusOK)
	if credit.Type != "transactions" || !txIDRE.MatchString(credit.ID) || credit.Attributes["amount"] != "100.00" ||
		credit.Attributes["reference"] != "opening" || credit.rel("sender") != "ROOT" || credit.rel("recipient") != main.ID {
		t.Fatalf("credit: %+v", credit)
	}
	if _, ok := credit.Meta["exchangeRate"]; ok {
		t.Fatalf("credit of one currency shows an exchangeRate: %+v", credit.Meta)
	}
	at, err := time.Parse("2006-01-02T15:04:05.000Z", credit.Meta["createdAt"].(string))
	if err != nil || at.Before(before) {
		t.Fatalf("createdAt %v: %v", credit.Meta["createdAt"], err)
	}
	// Transfer between 2 accounts: to one's own, and to another's public one.
	e.send(t, alice, "30.00", "to savings", main.ID, savings.ID).one(t, http.StatusOK)
	pay := e.send(t, alice, "20.50", "rent", main.ID, bobs.ID).one(t, http.StatusOK)
	// Emptying your account: ROOT as the recipient.
	e.send(t, alice, "30.00", "empty savings", savings.ID, "ROOT").one(t, http.StatusOK)

	for id, want := range map[string]string{main.ID: "49.50", savings.ID: "0.00"} {
		if got := e.balance(t, alice, id); got != want {
			t.Fatalf("balance of %s: %s, want %s", id, got, want)
		}
	}
	if got := e.balance(t, bob, bobs.ID); got != "20.50" {
		t.Fatalf("bob's balance: %s", got)
	}
	// Read back: one by id (for both of its sides), and the list, newest first.
	got := e.do(t, bob.Token, http.MethodGet, "/transactions/"+pay.ID, "").one(t, http.StatusOK)
	if got.ID != pay.ID || got.Attributes["amount"] != "20.50" || got.rel("sender") != main.ID || got.rel("recipient") != bobs.ID {
		t.Fatalf("bob reads %+v", got)
	}
	list, meta := e.do(t, alice.Token, http.MethodGet, "/transactions", "").many(t)
	refs := []string{}
	for _, r := range list {
		refs = append(refs, r.Attributes["reference"])
	}
	if want := []string{"empty savings", "rent", "to savings", "opening"}; !equal(refs, want) {
		t.Fatalf("alice's transactions %v, want %v", refs, want)
	}
	for _, k := range []string{"first", "prev", "next", "last"} {
		if v, ok := meta[k]; !ok || v != nil {
			t.Fatalf("one page: meta %v", meta)
		}
	}
	accounts, _ := e.do(t, alice.Token, http.MethodGet, "/accounts", "").many(t)
	if len(accounts) != 2 || accounts[0].ID != main.ID || accounts[1].Meta["balanceTotal"] != "0.00" {
		t.Fatalf("alice's accounts: %+v", accounts)
	}
	var cur []resource
	if err := json.Unmarshal(e.do(t, bob.Token, http.MethodGet, "/currencies", "").must(t, http.StatusOK).Data, &cur); err != nil ||
		len(cur) != 3 || cur[2].ID != "USD" || cur[2].Attributes["symbol"] != "$" {
		t.Fatalf("currencies: %+v %v", cur, err)
	}
	e.l.Audit(t)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
