package testbank_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/internal/ledgertest"
)

// TestImmutable: PATCH and DELETE on a transaction are refused with a
// JSON:API error, and the transaction is unchanged.
func TestImmutable(t *testing.T) {
	e := start(t)
	alice := e.newUser(t, "Alice", true)
	a := e.newAccount(t, alice, "A", "", "USD")
	tx := e.send(t, alice, "5.00", "keep", "ROOT", a.ID).one(t, http.StatusOK)
	for _, m := range []string{http.MethodPatch, http.MethodDelete} {
		r := e.do(t, alice.Token, m, "/transactions/"+tx.ID, txDoc("1.00", "changed", "ROOT", a.ID))
		er := r.fails(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "")
		if !strings.Contains(er.Detail, "cannot edit or delete a transaction") || r.header.Get("Allow") != "GET" {
			t.Fatalf("%s: %+v %v", m, er, r.header)
		}
	}
	got := e.do(t, alice.Token, http.MethodGet, "/transactions/"+tx.ID, "").one(t, http.StatusOK)
	if got.Attributes["amount"] != "5.00" || got.Attributes["reference"] != "keep" || e.balance(t, alice, a.ID) != "5.00" {
		t.Fatalf("after PATCH/DELETE: %+v", got)
	}
}

// TestErrorShapes: authentication, negotiation, unknown routes, malformed
// documents and refusals, each in Testbank's error shape with its code,
// and none of them moving money.
func TestErrorShapes(t *testing.T) {
	e := start(t)
	alice := e.newUser(t, "Alice", true)
	a := e.newAccount(t, alice, "A", "", "USD")
	b := e.newAccount(t, alice, "B", "", "USD")
	e.send(t, alice, "10.00", "", "ROOT", a.ID).one(t, http.StatusOK)
	doc := txDoc("1.00", "", a.ID, b.ID)

	// Authentication.
	e.do(t, "", http.MethodGet, "/transactions", "").fails(t, http.StatusUnauthorized, "NOT_AUTHENTICATED", "")
	e.do(t, strings.Repeat("x", 32), http.MethodPost, "/transactions", doc).fails(t, http.StatusUnauthorized, "NOT_AUTHENTICATED", "")
	e.do(t, ledgertest.AdminToken, http.MethodGet, "/accounts", "").fails(t, http.StatusUnauthorized, "NOT_AUTHENTICATED", "")
	e.do(t, alice.Token, http.MethodPost, "/admin/users", `{}`).fails(t, http.StatusUnauthorized, "NOT_AUTHENTICATED", "")
	e.do(t, e.l.Token(t, "someone", "transfers:write"), http.MethodPost, "/admin/users", `{}`).
		fails(t, http.StatusForbidden, "NOT_AUTHORIZED", "")
	// Negotiation: JSON:API and plain JSON are answered; an Accept that
	// excludes both is 406.
	for _, accept := range []string{"application/vnd.api+json", "application/json", "*/*", "text/html, application/json;q=0.5"} {
		e.do(t, alice.Token, http.MethodGet, "/accounts", "", "Accept", accept).many(t)
	}
	for _, accept := range []string{"text/html", "application/xml", "application/json;q=0"} {
		e.do(t, alice.Token, http.MethodGet, "/accounts", "", "Accept", accept).fails(t, http.StatusNotAcceptable, "NOT_ACCEPTABLE", "")
	}
	e.do(t, alice.Token, http.MethodPost, "/transactions", doc, "Content-Type", "application/json").one(t, http.StatusOK)
	// Unknown routes and resources.
	e.do(t, alice.Token, http.MethodGet, "/nowhere", "").fails(t, http.StatusNotFound, "RESOURCE_NOT_FOUND", "")
	e.do(t, alice.Token, http.MethodGet, "/transactions/zzzzzzzzzz", "").fails(t, http.StatusNotFound, "RESOURCE_NOT_FOUND", "")
	e.do(t, alice.Token, http.MethodGet, "/accounts/..%2f..", "").fails(t, http.StatusNotFound, "RESOURCE_NOT_FOUND", "")
	// Malformed documents, each naming what is wrong.
	bad := map[string]string{
		`not json`:                     "",
		`{"data":{"type":"accounts"}}`: "/data/type",
		`{"meta":{}}`:                  "/data",
		txDoc("1.001", "", a.ID, b.ID): "/data/attributes/amount",
		txDoc("-1.00", "", a.ID, b.ID): "/data/attributes/amount",
		txDoc("0", "", a.ID, b.ID):     "/data/attributes/amount",
		txDoc("1e3", "", a.ID, b.ID):   "/data/attributes/amount",
		txDoc("ten", "", a.ID, b.ID):   "/data/attributes/amount",
		strings.Replace(txDoc("1.00", "", a.ID, b.ID), `"amount":"1.00"`, `"amount":true`, 1):  "/data/attributes/amount",
		strings.Replace(doc, `"type":"accounts","id":"`+b.ID, `"type":"users","id":"`+b.ID, 1): "/data/relationships/recipient/data/type",
		strings.Replace(doc, `"reference":""`, `"reference":7`, 1):                             "/data/attributes/reference",
		txDoc("1.00", strings.Repeat("r", 2000), a.ID, b.ID):                                   "/data/attributes/reference",
		txDoc("1.00", "", a.ID, a.ID):                                                          "/data/relationships/recipient",
		`{"data":{"type":"transactions","attributes":{"amount":"1.00"}}}`:                      "/data/relationships/sender",
	}
	for body, pointer := range bad {
		e.do(t, alice.Token, http.MethodPost, "/transactions", body).fails(t, http.StatusBadRequest, "VALIDATION_ERROR", pointer)
	}
	for body, pointer := range map[string]string{
		accountDoc("", "", "USD"):        "/data/attributes/name",
		accountDoc("X", "SECRET", "USD"): "/data/attributes/visibility",
		accountDoc("X", "", "XAU"):       "/data/relationships/currency/data/id",
	} {
		e.do(t, alice.Token, http.MethodPost, "/accounts", body).fails(t, http.StatusBadRequest, "VALIDATION_ERROR", pointer)
	}
	// Insufficient funds is a validation error with a clear detail.
	er := e.send(t, alice, "9.01", "", a.ID, b.ID).fails(t, http.StatusBadRequest, "VALIDATION_ERROR", "/data/attributes/amount")
	if !strings.HasPrefix(er.Detail, "Insufficient funds") {
		t.Fatalf("insufficient funds detail: %q", er.Detail)
	}
	if x, y := e.balance(t, alice, a.ID), e.balance(t, alice, b.ID); x != "9.00" || y != "1.00" {
		t.Fatalf("balances after refusals: %s, %s", x, y)
	}
	e.l.Audit(t)
}
