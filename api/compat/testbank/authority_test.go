package testbank_test

import (
	"net/http"
	"testing"
)

// TestRootNeedsGrant: ROOT in either direction is a mint or a burn, an
// admin's right; only a user an operator granted it may use it, and only
// with its own account on the other side (ADR 0020).
func TestRootNeedsGrant(t *testing.T) {
	e := start(t)
	op := e.newUser(t, "Operator", true)
	bob := e.newUser(t, "Bob", false)
	opAcc := e.newAccount(t, op, "Op", "", "USD")
	bobAcc := e.newAccount(t, bob, "Bob", "PUBLIC", "USD")
	e.send(t, op, "50.00", "", "ROOT", opAcc.ID).one(t, http.StatusOK)
	e.send(t, op, "10.00", "", opAcc.ID, bobAcc.ID).one(t, http.StatusOK)

	// Bob was not granted ROOT: no mint, no burn.
	e.send(t, bob, "1000.00", "", "ROOT", bobAcc.ID).fails(t, http.StatusForbidden, "NOT_AUTHORIZED", "")
	e.send(t, bob, "10.00", "", bobAcc.ID, "ROOT").fails(t, http.StatusForbidden, "NOT_AUTHORIZED", "")
	// The operator mints only into its own accounts, and burns only its own.
	e.send(t, op, "5.00", "", "ROOT", bobAcc.ID).fails(t, http.StatusForbidden, "NOT_AUTHORIZED", "")
	e.send(t, op, "5.00", "", bobAcc.ID, "ROOT").fails(t, http.StatusForbidden, "NOT_AUTHORIZED", "")
	// A burn beyond the balance is refused like any debit.
	e.send(t, op, "40.01", "", opAcc.ID, "ROOT").fails(t, http.StatusBadRequest, "VALIDATION_ERROR", "/data/attributes/amount")
	// ROOT to ROOT is no transaction.
	e.send(t, op, "1.00", "", "ROOT", "ROOT").fails(t, http.StatusBadRequest, "VALIDATION_ERROR", "/data/relationships/recipient")
	if a, b := e.balance(t, op, opAcc.ID), e.balance(t, bob, bobAcc.ID); a != "40.00" || b != "10.00" {
		t.Fatalf("balances after refusals: %s, %s", a, b)
	}
	e.l.Audit(t)
}

// TestVisibility: a sender is one of the caller's accounts; a recipient
// is one of the caller's or anyone's PUBLIC or UNLISTED account, and
// someone else's PRIVATE account is answered exactly as one that does
// not exist. Reads show only what touches the caller's accounts.
func TestVisibility(t *testing.T) {
	e := start(t)
	alice := e.newUser(t, "Alice", true)
	bob := e.newUser(t, "Bob", false)
	carol := e.newUser(t, "Carol", false)
	a := e.newAccount(t, alice, "A", "", "USD")
	pub := e.newAccount(t, bob, "Public", "PUBLIC", "USD")
	unl := e.newAccount(t, bob, "Unlisted", "UNLISTED", "USD")
	priv := e.newAccount(t, bob, "Private", "PRIVATE", "USD")
	e.send(t, alice, "100.00", "", "ROOT", a.ID).one(t, http.StatusOK)

	e.send(t, alice, "1.00", "", a.ID, pub.ID).one(t, http.StatusOK)
	tx := e.send(t, alice, "2.00", "", a.ID, unl.ID).one(t, http.StatusOK)
	hidden := e.send(t, alice, "3.00", "", a.ID, priv.ID).fails(t, http.StatusBadRequest, "VALIDATION_ERROR", "/data/relationships/recipient/data/id")
	missing := e.send(t, alice, "3.00", "", a.ID, "zzzzzzzzzz").fails(t, http.StatusBadRequest, "VALIDATION_ERROR", "/data/relationships/recipient/data/id")
	if len(hidden.Detail) != len(missing.Detail) {
		t.Fatalf("a private account is told apart from a missing one: %q vs %q", hidden.Detail, missing.Detail)
	}
	// Bob may pay into his own private account; Alice may not send from Bob's.
	e.send(t, bob, "1.00", "", pub.ID, priv.ID).one(t, http.StatusOK)
	e.send(t, alice, "1.00", "", pub.ID, a.ID).fails(t, http.StatusForbidden, "NOT_AUTHORIZED", "")

	// Reads: others' accounts and transactions are not found.
	e.do(t, alice.Token, http.MethodGet, "/accounts/"+pub.ID, "").fails(t, http.StatusNotFound, "RESOURCE_NOT_FOUND", "")
	e.do(t, carol.Token, http.MethodGet, "/transactions/"+tx.ID, "").fails(t, http.StatusNotFound, "RESOURCE_NOT_FOUND", "")
	e.do(t, bob.Token, http.MethodGet, "/transactions/"+tx.ID, "").one(t, http.StatusOK)
	if list, _ := e.do(t, carol.Token, http.MethodGet, "/transactions", "").many(t); len(list) != 0 {
		t.Fatalf("carol sees %d transactions", len(list))
	}
	if list, _ := e.do(t, carol.Token, http.MethodGet, "/transactions?filter[account]="+a.ID, "").many(t); len(list) != 0 {
		t.Fatalf("carol sees %d of alice's transactions", len(list))
	}
	if list, _ := e.do(t, bob.Token, http.MethodGet, "/transactions", "").many(t); len(list) != 3 {
		t.Fatalf("bob sees %d transactions, want 3", len(list))
	}
	if accs, _ := e.do(t, carol.Token, http.MethodGet, "/accounts", "").many(t); len(accs) != 0 {
		t.Fatalf("carol sees accounts: %+v", accs)
	}
	e.l.Audit(t)
}
