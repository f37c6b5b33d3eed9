package mercury_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestRealClientRequests sends transactions as the Mercury site does
// (fetch with a JSON string body: no Content-Type, a Link the adapter
// ignores, Returns as an array of asset ids) and with keys in other
// cases, which encoding/json matches as the original did.
func TestRealClientRequests(t *testing.T) {
	e := start(t)
	e.fund(t, "alice", "10", "Stipend")
	for _, body := range []string{
		`{"From":"alice","To":"bob","Amount":1000000,"Note":"Bought Red Hat","Link":"/avatarshop/12/red-hat","Returns":[12]}`,
		`{"from":"alice","to":"bob","amount":2000000,"note":"lower case","link":"/x"}`,
		`{"FROM":"alice","TO":"bob","AMOUNT":3000000,"NOTE":"upper case","LINK":"/y","RETURNS":null}`,
	} {
		e.transact(t, body)
	}
	if a, b := e.balance(t, "alice"), e.balance(t, "bob"); a != "4.000000" || b != "6.000000" {
		t.Fatalf("balances alice %s bob %s, want 4 and 6", a, b)
	}
	h := e.history(t, "bob")
	if len(h) != 3 || str(t, h[0]["Note"]) != "upper case" || str(t, h[2]["Note"]) != "Bought Red Hat" ||
		string(h[2]["Returns"]) != "[12]" || string(h[0]["Returns"]) != "null" || string(h[1]["Amount"]) != "2000000" {
		t.Fatalf("bob's history: %v", h)
	}
	if _, ok := h[2]["Link"]; ok {
		t.Fatalf("a Transaction shows a Link: %v", h[2])
	}
	// The native transfer is the sender's, with the note as its reference
	// and Returns in its metadata.
	v := e.nativeTransfer(t, "mercury-"+str(t, h[2]["Id"]))
	if v.From != "mercury:alice" || v.To != "mercury:bob" || v.Amount != "1.000000" || v.Asset != "MERCURY" ||
		v.Reference != "Bought Red Hat" || v.Metadata["mercury.returns"] != "[12]" {
		t.Fatalf("native transfer: %+v", v)
	}
	e.l.Audit(t)
}

// TestReturns keeps an object Returns with its transfer and shows it
// back; refuses one the ledger could not keep; and journals a transaction
// of no amount with Returns as a memo that moves nothing.
func TestReturns(t *testing.T) {
	e := start(t)
	e.fund(t, "alice", "10", "Stipend")
	e.transact(t, `{"From":"alice","To":"bob","Amount":1500000,"Note":"Bought 2 hats","Returns":{"123": 2 , "7":1}}`)
	h := e.history(t, "alice")
	if len(h) != 2 || string(h[0]["Returns"]) != `{"123":2,"7":1}` {
		t.Fatalf("alice's history: %v", h)
	}

	e.mustFail(t, `{"From":"alice","To":"bob","Amount":1,"Note":"big","Returns":{"`+strings.Repeat("1", 600)+`":1}}`,
		"transaction returns must be at most 512 bytes of JSON")
	for _, r := range []string{`"hat"`, `5`, `true`, `{"a":}`} {
		body := `{"From":"alice","To":"bob","Amount":1,"Note":"n","Returns":` + r + `}`
		if got := e.send(t, http.MethodPost, "/transact", body); got.status != http.StatusBadRequest {
			t.Fatalf("Returns %s: %d %q", r, got.status, got.body)
		}
	}

	// No amount, but Returns: accepted (the original's free item) and
	// journaled as a native memo with its Returns; no money moves.
	before := e.posted(t)
	e.transact(t, `{"From":"alice","To":"bob","Amount":0,"Note":"Free hat","Returns":{"99":1}}`)
	e.transact(t, `{"From":"carol","To":"dave","Amount":0,"Note":"Free hat","Returns":[99]}`)
	if got := e.posted(t); got != before+2 {
		t.Fatalf("posted transfers %d, want %d", got, before+2)
	}
	if a, b := e.balance(t, "alice"), e.balance(t, "bob"); a != "8.500000" || b != "1.500000" {
		t.Fatalf("alice %s, bob %s", a, b)
	}
	h = e.history(t, "alice")
	if len(h) != 3 || string(h[0]["Amount"]) != "0" || string(h[0]["Returns"]) != `{"99":1}` ||
		string(h[0]["Type"]) != `"Transaction"` || string(h[0]["To"]) != `"bob"` || string(h[0]["Note"]) != `"Free hat"` {
		t.Fatalf("alice's history after a free transaction: %v", h)
	}
	if h := e.history(t, "dave"); len(h) != 1 || string(h[0]["Returns"]) != `[99]` || string(h[0]["Amount"]) != "0" {
		t.Fatalf("dave's history: %v", h)
	}
	var id string
	if err := json.Unmarshal(h[0]["Id"], &id); err != nil {
		t.Fatal(err)
	}
	if v := e.nativeTransfer(t, "mercury-"+id); !v.Memo || v.Amount != "0.000000" || v.Entries[0].Balance != "8.500000" {
		t.Fatalf("the native memo: %+v", v)
	}
	// Its other fields are checked as for any transaction.
	e.mustFail(t, `{"From":"alice","To":"alice","Amount":0,"Note":"x","Returns":[1]}`, "circular transaction: alice -> alice")
	e.mustFail(t, `{"From":"alice","To":"bob","Amount":0,"Returns":[1]}`, "transaction must have a note")
	e.l.Audit(t)
}

// TestSenderAccountOfAnother: an account "mercury:<user>" an operator
// opened for someone else is not the user's; the adapter refuses to use
// it and nothing moves.
func TestSenderAccountOfAnother(t *testing.T) {
	e := start(t)
	e.fund(t, "alice", "10", "Stipend")
	e.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/accounts", map[string]any{"id": "mercury:zed", "asset": "MERCURY", "owner": "ops"})
	e.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/transfers", map[string]any{"from": "world", "to": "mercury:zed", "amount": "5", "asset": "MERCURY"})
	r := e.send(t, http.MethodPost, "/transact", `{"From":"zed","To":"alice","Amount":1000000,"Note":"not mine"}`)
	if r.status != http.StatusBadRequest || !strings.HasPrefix(r.body, "transaction cannot use this user's account") {
		t.Fatalf("%d %q", r.status, r.body)
	}
	if z := e.balance(t, "zed"); z != "5.000000" {
		t.Fatalf("zed %s", z)
	}
	e.l.Audit(t)
}
