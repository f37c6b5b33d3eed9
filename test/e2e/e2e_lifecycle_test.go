package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/node"
)

// e2eLifeAccount is an account view with its lifecycle (ADR 0024).
type e2eLifeAccount struct {
	e2eAccount
	Status string `json:"status"`
	Frozen string `json:"frozen"`
}

func (l *e2eLedger) lifeAccount(t *testing.T, id string) e2eLifeAccount {
	t.Helper()
	l.settle(t)
	return e2eJSON[e2eLifeAccount](t, l.do(t, http.MethodGet, "/v1/accounts/"+id, nil), http.StatusOK)
}

func (l *e2eLedger) transfer(t *testing.T, id, from, to, amount string) e2eResp {
	t.Helper()
	return l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": id, "from": from, "to": to, "amount": amount})
}

// countEvents counts the journal's events of type typ naming account.
func (j e2eJournal) countEvents(typ domain.EventType, account string) int {
	n := 0
	for _, ev := range j {
		if ev.Type == typ && ev.Involves(account) {
			n++
		}
	}
	return n
}

// TestE2EAccountLimit changes an overdraft limit over HTTP: a non-admin
// token (even the owner's, with accounts:write) is refused 403 by the
// processor and nothing is journaled; an admin raises it, journaled as
// AccountLimitChanged, and the account may then draw on it; a limit below
// what the balance draws is refused 409 limit_in_use.
func TestE2EAccountLimit(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	alice := l.as(l.tokenFor(t, "alice", time.Hour, userScopes...))
	e2eJSON[e2eAccount](t, alice.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "alice-main", "asset": "USD"}), http.StatusCreated)
	l.openAccount(t, "shop", "USD")

	e2eCheckProblem(t, alice.do(t, http.MethodPut, "/v1/accounts/alice-main/limit", map[string]any{"overdraft_limit": "100"}), http.StatusForbidden, "forbidden", "")
	if n := l.journal(t).countEvents(domain.EventAccountLimitChanged, "alice-main"); n != 0 {
		t.Fatalf("a refused limit change journaled %d events", n)
	}
	e2eCheckProblem(t, alice.transfer(t, "spend-1", "alice-main", "shop", "1"), http.StatusUnprocessableEntity, "insufficient_funds", "")

	got := e2eJSON[e2eLifeAccount](t, l.do(t, http.MethodPut, "/v1/accounts/alice-main/limit", map[string]any{"overdraft_limit": "100"}), http.StatusOK)
	if got.OverdraftLimit != "100.00" || got.Status != "open" {
		t.Fatalf("after the limit change: %+v", got)
	}
	e2eJSON[e2eTransfer](t, alice.transfer(t, "spend-2", "alice-main", "shop", "60"), http.StatusCreated)
	e2eCheckProblem(t, l.do(t, http.MethodPut, "/v1/accounts/alice-main/limit", map[string]any{"overdraft_limit": "50"}), http.StatusConflict, "limit_in_use", "")
	e2eCheckProblem(t, l.do(t, http.MethodPut, "/v1/accounts/alice-main/limit", map[string]any{"overdraft_limit": "5.001"}), http.StatusBadRequest, "validation_failed", "")
	e2eCheckProblem(t, l.do(t, http.MethodPut, "/v1/accounts/world/limit", map[string]any{"overdraft_limit": "5"}), http.StatusBadRequest, "validation_failed", "account")
	if a := l.lifeAccount(t, "alice-main"); a.Balance != "-60.00" || a.OverdraftLimit != "100.00" {
		t.Fatalf("read back: %+v", a)
	}
	if n := l.journal(t).countEvents(domain.EventAccountLimitChanged, "alice-main"); n != 1 {
		t.Fatalf("%d AccountLimitChanged events, want 1", n)
	}
	l.checkZeroSum(t, "USD", "alice-main", "shop")
}

// TestE2EAccountFreezeAndClose freezes, unfreezes and closes accounts over
// HTTP and checks every transfer path against them: "debits" refuses
// debits (a transfer, a batch item, a burn) and allows credits, "all"
// refuses both, each refusal journaled as TransferRejected with its code;
// only an admin freezes or unfreezes; an account closes only at zero and
// then takes nothing; the states survive a restart.
func TestE2EAccountFreezeAndClose(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := e2eStartWith(t, node.Config{DataDir: dir})
	l.defineAsset(t, "USD", 2)
	alice := l.as(l.tokenFor(t, "alice", time.Hour, userScopes...))
	e2eJSON[e2eAccount](t, alice.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "alice-main", "asset": "USD"}), http.StatusCreated)
	e2eJSON[e2eAccount](t, alice.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "alice-spare", "asset": "USD"}), http.StatusCreated)
	l.openAccount(t, "shop", "USD")
	l.mint(t, "alice-main", "50.00")
	l.mint(t, "shop", "50.00")

	// Only an admin freezes.
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/accounts/shop/freeze", map[string]any{"frozen": "debits"}), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/accounts/shop/freeze", map[string]any{"frozen": "credits"}), http.StatusBadRequest, "validation_failed", "frozen")
	got := e2eJSON[e2eLifeAccount](t, l.do(t, http.MethodPost, "/v1/accounts/alice-main/freeze", map[string]any{"frozen": "debits"}), http.StatusOK)
	if got.Status != "frozen" || got.Frozen != "debits" {
		t.Fatalf("after freezing: %+v", got)
	}

	// Debits are refused on every path, credits allowed.
	e2eCheckProblem(t, alice.transfer(t, "d-1", "alice-main", "shop", "1"), http.StatusUnprocessableEntity, "account_frozen", "")
	e2eCheckProblem(t, l.transfer(t, "d-2", "alice-main", domain.World, "1"), http.StatusUnprocessableEntity, "account_frozen", "")
	batch := e2eJSON[map[string]any](t, l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": []map[string]any{
		{"id": "d-3", "from": "alice-main", "to": "shop", "amount": "1"}, {"id": "c-1", "from": "shop", "to": "alice-main", "amount": "2"}}}), http.StatusOK)
	results, _ := batch["results"].([]any)
	if len(results) != 2 {
		t.Fatalf("batch: %v", batch)
	}
	e2eJSON[e2eTransfer](t, l.transfer(t, "c-2", domain.World, "alice-main", "3"), http.StatusCreated)
	if a := l.lifeAccount(t, "alice-main"); a.Balance != "55.00" {
		t.Fatalf("after credits to a frozen account: %+v", a)
	}
	j := l.journal(t)
	for _, id := range []string{"d-1", "d-2", "d-3"} {
		j.checkRejected(t, id, "account_frozen")
	}

	// "all" refuses credits too; the owner may not unfreeze.
	e2eJSON[e2eLifeAccount](t, l.do(t, http.MethodPost, "/v1/accounts/alice-main/freeze", map[string]any{"frozen": "all"}), http.StatusOK)
	e2eCheckProblem(t, l.transfer(t, "c-3", "shop", "alice-main", "1"), http.StatusUnprocessableEntity, "account_frozen", "")
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/accounts/alice-main/unfreeze", nil), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/accounts/alice-main/close", nil), http.StatusForbidden, "forbidden", "")
	l.journal(t).checkRejected(t, "c-3", "account_frozen")

	// Close: refused at a balance, allowed to the owner at zero, final.
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/accounts/shop/close", nil), http.StatusConflict, "account_not_empty", "")
	closed := e2eJSON[e2eLifeAccount](t, alice.do(t, http.MethodPost, "/v1/accounts/alice-spare/close", nil), http.StatusOK)
	if closed.Status != "closed" {
		t.Fatalf("after closing: %+v", closed)
	}
	e2eJSON[e2eLifeAccount](t, alice.do(t, http.MethodPost, "/v1/accounts/alice-spare/close", nil), http.StatusOK)
	e2eCheckProblem(t, l.transfer(t, "c-4", domain.World, "alice-spare", "1"), http.StatusUnprocessableEntity, "account_closed", "")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/accounts/alice-spare/freeze", map[string]any{"frozen": "all"}), http.StatusUnprocessableEntity, "account_closed", "")
	if j := l.journal(t); j.countEvents(domain.EventAccountClosed, "alice-spare") != 1 || j.countEvents(domain.EventAccountFrozen, "alice-main") != 2 {
		t.Fatal("the journal does not hold one close and two freezes")
	}

	// A restart (state from the journal or its snapshot) keeps every status.
	l.stop()
	l = e2eStartWith(t, node.Config{DataDir: dir})
	if a := l.lifeAccount(t, "alice-main"); a.Status != "frozen" || a.Frozen != "all" || a.Balance != "55.00" {
		t.Fatalf("after the restart: %+v", a)
	}
	if a := l.lifeAccount(t, "alice-spare"); a.Status != "closed" {
		t.Fatalf("after the restart: %+v", a)
	}
	e2eCheckProblem(t, l.transfer(t, "c-5", "shop", "alice-main", "1"), http.StatusUnprocessableEntity, "account_frozen", "")
	e2eCheckProblem(t, l.transfer(t, "c-6", "shop", "alice-spare", "1"), http.StatusUnprocessableEntity, "account_closed", "")
	got = e2eJSON[e2eLifeAccount](t, l.do(t, http.MethodPost, "/v1/accounts/alice-main/unfreeze", nil), http.StatusOK)
	if got.Status != "open" || got.Frozen != "" {
		t.Fatalf("after unfreezing: %+v", got)
	}
	e2eJSON[e2eTransfer](t, l.transfer(t, "d-4", "alice-main", "shop", "5"), http.StatusCreated)
	l.checkZeroSum(t, "USD", "alice-main", "alice-spare", "shop")

	// The event stream delivers the lifecycle's events, filtered by type.
	stream := l.openEvents(t, l.client, l.base, "?from=1&type=AccountFrozen&type=AccountUnfrozen&type=AccountClosed")
	for _, want := range []struct{ typ, data string }{
		{"AccountFrozen", `"account_change":{"account":"alice-main","frozen":"debits"}`},
		{"AccountFrozen", `"account_change":{"account":"alice-main","frozen":"all"}`},
		{"AccountClosed", `"account_change":{"account":"alice-spare"}`},
		{"AccountUnfrozen", `"account_change":{"account":"alice-main"}`},
	} {
		if ev := stream.next(t); ev.Event != want.typ || !strings.Contains(ev.Data, want.data) {
			t.Fatalf("event %d: %s %s, want %s with %s", ev.ID, ev.Event, ev.Data, want.typ, want.data)
		}
	}
}
