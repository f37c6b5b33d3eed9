package mercury_test

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
)

var mercuryID = regexp.MustCompile(`^[0-9a-z]{15}$`)

// TestSeedExamples replays the seed's examples: the transfer (with the
// curl's Content-Type), then alice's history with a Transaction, a
// Mint (a native mint with the reference "Stipend") and an incoming
// Transaction, newest first, keys as the seed shows them; and "[]" for a
// user without history.
func TestSeedExamples(t *testing.T) {
	e := start(t)
	e.fund(t, "charlie", "100", "Stipend")
	e.transact(t, `{"From":"charlie","To":"alice","Amount":2500000,"Note":"Refund"}`)
	e.fund(t, "alice", "10", "Stipend")

	r := e.send(t, http.MethodPost, "/transact", `{
    "From": "alice",
    "To": "bob",
    "Amount": 5000000,
    "Note": "Payment for services"
  }`, "Content-Type", "application/json")
	if r.status != http.StatusOK || r.body != "" {
		t.Fatalf("seed transfer: %d %q", r.status, r.body)
	}
	if got := e.balance(t, "bob"); got != "5.000000" {
		t.Fatalf("bob's balance %s, want 5.000000", got)
	}

	h := e.history(t, "alice")
	want := []struct{ keys, typ, from, to, amount, note, returns string }{
		{"Type,Id,Time,From,To,Amount,Note,Returns", "Transaction", "alice", "bob", "5000000", "Payment for services", "null"},
		{"Type,Id,Time,To,Amount,Note", "Mint", "", "alice", "10000000", "Stipend", ""},
		{"Type,Id,Time,From,To,Amount,Note,Returns", "Transaction", "charlie", "alice", "2500000", "Refund", "null"},
	}
	if len(h) != len(want) {
		t.Fatalf("alice's history has %d transactions, want %d: %v", len(h), len(want), h)
	}
	for i, w := range want {
		tx := h[i]
		if got := keys(tx); got != w.keys {
			t.Errorf("transaction %d keys %s, want %s", i, got, w.keys)
			continue
		}
		if str(t, tx["Type"]) != w.typ || string(tx["Amount"]) != w.amount || str(t, tx["Note"]) != w.note ||
			w.from != "" && str(t, tx["From"]) != w.from || str(t, tx["To"]) != w.to || w.returns != "" && string(tx["Returns"]) != w.returns {
			t.Errorf("transaction %d: %v, want %+v", i, tx, w)
		}
		id := str(t, tx["Id"])
		if !mercuryID.MatchString(id) {
			t.Errorf("transaction %d Id %q is not 15 characters of [0-9a-z]", i, id)
		}
		// Each Id names its native transfer (the mint was made natively, so
		// its Id is derived from the native id), and Time is its posting
		// time in Unix milliseconds.
		nativeID := "mercury-" + id
		if w.typ == "Mint" {
			nativeID = "mint-alice-Stipend"
		}
		v := e.nativeTransfer(t, nativeID)
		if ms, _ := strconv.ParseInt(string(tx["Time"]), 10, 64); v.PostedAt == nil || ms != v.PostedAt.UnixMilli() {
			t.Errorf("transaction %d Time %s, native posted_at %v", i, tx["Time"], v.PostedAt)
		}
	}
	// Ids are stable.
	if again := e.history(t, "alice"); string(again[1]["Id"]) != string(h[1]["Id"]) || string(again[0]["Id"]) != string(h[0]["Id"]) {
		t.Errorf("Ids changed between reads: %s %s", again[1]["Id"], h[1]["Id"])
	}

	r = e.send(t, http.MethodGet, "/transactions/newuser", "")
	if r.status != http.StatusOK || r.body != "[]\n" || r.contentType != "application/json" {
		t.Fatalf("GET /transactions/newuser: %d %s %q, want []", r.status, r.contentType, r.body)
	}
	e.l.Audit(t)
}

// TestSeedErrors sends each of the seed's invalid transactions and gets
// its exact message, 400 text/plain, with nothing moved.
func TestSeedErrors(t *testing.T) {
	e := start(t)
	e.fund(t, "alice", "10", "Stipend")
	e.transact(t, `{"From":"alice","To":"bob","Amount":1,"Note":"opens bob"}`)
	before := e.posted(t)
	for _, tc := range []struct{ name, body, msg string }{
		{"insufficient balance", `{"From":"alice","To":"bob","Amount":999999999,"Note":"Too much money"}`,
			"insufficient balance: balance was 9.999999 unit, at least 999.999999 unit is required"},
		{"insufficient balance of a new user", `{"From":"nobody","To":"bob","Amount":5000000,"Note":"Not mine"}`,
			"insufficient balance: balance was 0.000000 unit, at least 5.000000 unit is required"},
		{"missing note", `{"From":"alice","To":"bob","Amount":5000000}`, "transaction must have a note"},
		{"zero amount without returns", `{"From":"alice","To":"bob","Amount":0,"Note":"Empty transaction"}`, "transaction must have an amount or returns"},
		{"zero amount with empty returns", `{"From":"alice","To":"bob","Amount":0,"Note":"Empty","Returns":{}}`, "transaction must have an amount or returns"},
		{"circular", `{"From":"alice","To":"alice","Amount":5000000,"Note":"Self transfer"}`, "circular transaction: alice -> alice"},
		{"empty sender", `{"From":"","To":"bob","Amount":5000000,"Note":"No sender"}`, "transaction must have a sender"},
		{"empty recipient", `{"From":"alice","To":"","Amount":5000000,"Note":"No recipient"}`, "transaction must have a recipient"},
		// The original's order: amount, sender, recipient, circular, note.
		{"amount before sender", `{"From":"","To":"","Amount":0}`, "transaction must have an amount or returns"},
		{"sender before recipient", `{"From":"","To":"","Amount":1}`, "transaction must have a sender"},
		{"recipient before note", `{"From":"alice","To":"","Amount":1}`, "transaction must have a recipient"},
		{"circular before note", `{"From":"bob","To":"bob","Amount":1}`, "circular transaction: bob -> bob"},
		{"note before balance", `{"From":"nobody","To":"bob","Amount":1}`, "transaction must have a note"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.mustFail(t, tc.body, tc.msg) })
	}
	if got := e.posted(t); got != before {
		t.Fatalf("posted transfers %d, want %d: a refused transaction moved money", got, before)
	}
	if a, b := e.balance(t, "alice"), e.balance(t, "bob"); a != "9.999999" || b != "0.000001" {
		t.Fatalf("balances alice %s bob %s", a, b)
	}
	e.l.Audit(t)
}

// TestBurnAndNativeCounterparty: an operator's burn from a user shows as
// a Burn (no To, a Link, Returns), and a payment from a native account
// that is not a Mercury user shows that account's id as From.
func TestBurnAndNativeCounterparty(t *testing.T) {
	e := start(t)
	e.fund(t, "alice", "10", "Stipend")
	e.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/transfers", map[string]any{"id": "burn-1", "from": "mercury:alice", "to": "world",
		"amount": "1", "asset": "MERCURY", "reference": "Created asset Hat", "metadata": map[string]string{"mercury.link": "/avatarshop/1/hat"}})
	e.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/accounts", map[string]any{"id": "treasury", "asset": "MERCURY"})
	e.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/transfers", map[string]any{"from": "world", "to": "treasury", "amount": "5", "asset": "MERCURY"})
	e.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/transfers", map[string]any{"from": "treasury", "to": "mercury:alice", "amount": "2", "asset": "MERCURY", "reference": "Prize"})
	h := e.history(t, "alice")
	if len(h) != 3 {
		t.Fatalf("alice's history: %v", h)
	}
	prize, burn := h[0], h[1]
	if keys(prize) != "Type,Id,Time,From,To,Amount,Note,Returns" || str(t, prize["From"]) != "treasury" || str(t, prize["To"]) != "alice" || string(prize["Amount"]) != "2000000" {
		t.Errorf("payment from a native account: %v", prize)
	}
	if keys(burn) != "Type,Id,Time,From,Amount,Note,Link,Returns" || str(t, burn["Type"]) != "Burn" || str(t, burn["From"]) != "alice" ||
		string(burn["Amount"]) != "1000000" || str(t, burn["Link"]) != "/avatarshop/1/hat" || string(burn["Returns"]) != "null" {
		t.Errorf("burn: %v", burn)
	}
	e.l.Audit(t)
}
