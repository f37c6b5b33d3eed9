package e2e_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// TestE2ENoMoneyFromNothing is a non-admin user trying every path by which
// it could spend money no one paid it, or money it does not own: an
// account of its own with credit (an overdraft limit, unlimited or not,
// in every spelling; repeating an admin's opening that granted one), a
// mint from or a burn into the issuer account, someone else's account,
// another's transfer id, and each of these inside a batch, an atomic
// batch and an asynchronous submission. Every attempt is refused 403
// forbidden (a limit that holds is 422), and afterwards no balance has
// moved, the journal holds no posting of any attempt, and every asset
// still sums to zero.
func TestE2ENoMoneyFromNothing(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	carol := l.as(l.tokenFor(t, "carol", time.Hour, userScopes...))
	bob := l.as(l.tokenFor(t, "bob", time.Hour, userScopes...))
	e2eJSON[e2eAccount](t, bob.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "bob", "asset": "USD"}), http.StatusCreated)
	e2eJSON[e2eAccount](t, carol.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "carol", "asset": "USD"}), http.StatusCreated)
	// A zero limit is no credit: a user may spell it out.
	for i, zero := range []any{"0", "0.00", 0} {
		id := "carol-zero-" + strconv.Itoa(i)
		acc := e2eJSON[e2eAccount](t, carol.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": id, "asset": "USD", "overdraft_limit": zero}), http.StatusCreated)
		if acc.OverdraftLimit != "0.00" {
			t.Errorf("overdraft limit %v opened as %q, want 0.00", zero, acc.OverdraftLimit)
		}
	}
	// Credit granted by an admin is the admin's decision.
	granted := map[string]any{"id": "carol-credit", "asset": "USD", "owner": "carol", "overdraft_limit": "50.00"}
	e2eJSON[e2eAccount](t, l.do(t, http.MethodPost, "/v1/accounts", granted), http.StatusCreated)
	l.mint(t, "bob", "100.00")
	b1 := e2eJSON[e2eTransfer](t, bob.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "b-1", "from": "bob", "to": "carol", "amount": "1.00"}), http.StatusCreated)

	involved := []string{"bob", "carol", "carol-credit"}
	before := map[string]string{domain.World: l.account(t, domain.World, "USD").Balance}
	for _, id := range involved {
		before[id] = l.account(t, id, "USD").Balance
	}
	postedBefore := countPosted(l.journal(t))

	const (
		post      = http.MethodPost
		accts     = "/v1/accounts"
		tfers     = "/v1/transfers"
		forbidden = "forbidden"
	)
	account := func(id string, limit any) map[string]any {
		return map[string]any{"id": id, "asset": "USD", "overdraft_limit": limit}
	}
	pay := func(id, from, to, amount string) map[string]any {
		return map[string]any{"id": id, "from": from, "to": to, "amount": amount}
	}
	async := []string{"Prefer", "respond-async"}
	var attempts []string // transfer ids that must never be posted
	for _, c := range []hostileCase{
		// Credit on an account of its own: the exact request, and
		// every other spelling of a limit above zero.
		{"unlimited overdraft", post, accts, account("carol3", "unlimited"), nil, 403, forbidden, ""},
		{"a million of overdraft", post, accts, account("carol3", "1000000.00"), nil, 403, forbidden, ""},
		{"the smallest overdraft", post, accts, account("carol3", "0.01"), nil, 403, forbidden, ""},
		{"overdraft as a JSON number", post, accts, account("carol3", 5), nil, 403, forbidden, ""},
		{"overdraft with an owner named", post, accts, map[string]any{"id": "carol3", "asset": "USD", "owner": "carol", "overdraft_limit": "10"}, nil, 403, forbidden, ""},
		{"overdraft asked asynchronously", post, accts, account("carol3", "unlimited"), async, 403, forbidden, ""},
		{"repeating the admin's opening of its account", post, accts, granted, nil, 403, forbidden, ""},
		{"a limit on an account it opened without", post, accts, account("carol", "10.00"), nil, 403, forbidden, ""},
		// The transfer the hole allowed, now from an account that was not opened.
		{"a million from the refused account", post, tfers, pay("h-1", "carol3", "bob", "1000000.00"), nil, 403, forbidden, ""},
		// The issuer account: only an admin mints or burns.
		{"mint", post, tfers, pay("h-2", domain.World, "carol", "1000000.00"), nil, 403, forbidden, ""},
		{"mint with the asset named", post, tfers, map[string]any{"id": "h-3", "from": domain.World, "to": "carol", "amount": "1", "asset": "USD"}, nil, 403, forbidden, ""},
		{"burn", post, tfers, pay("h-4", "carol", domain.World, "1.00"), nil, 403, forbidden, ""},
		// Someone else's money, and someone else's transfer.
		{"debit of another's account", post, tfers, pay("h-5", "bob", "carol", "1.00"), nil, 403, forbidden, ""},
		{"replay of another's transfer", post, tfers, pay(b1.ID, "bob", "carol", "1.00"), nil, 403, forbidden, ""},
		{"replay of another's id by header", post, tfers, map[string]any{"from": "bob", "to": "carol", "amount": "1.00"}, []string{"Idempotency-Key", b1.ID}, 403, forbidden, ""},
		// Beyond the credit an admin granted: the limit holds.
		{"beyond the granted credit", post, tfers, pay("h-6", "carol-credit", "bob", "50.01"), nil, 422, "insufficient_funds", ""},
		{"beyond its balance", post, tfers, pay("h-7", "carol", "bob", "1.01"), nil, 422, "insufficient_funds", ""},
	} {
		if tr, ok := c.body.(map[string]any); ok && c.path == tfers {
			if id, ok := tr["id"].(string); ok && id != b1.ID {
				attempts = append(attempts, id)
			}
		}
		t.Run(c.name, func(t *testing.T) {
			e2eCheckProblem(t, carol.do(t, c.method, c.path, c.body, c.header...), c.status, c.code, c.field)
		})
	}
	e2eCheckProblem(t, carol.do(t, http.MethodGet, "/v1/accounts/carol3", nil), http.StatusNotFound, "account_not_found", "")

	// Batches: each such item refused on its own, and an atomic batch
	// with one of them posts nothing (its honest item included).
	hostile := []map[string]any{
		pay("hb-1", "carol3", "bob", "1000000.00"),
		pay("hb-2", domain.World, "carol", "5.00"),
		pay("hb-3", "carol", domain.World, "0.50"),
		pay("hb-4", "bob", "carol", "5.00"),
		pay(b1.ID, "bob", "carol", "1.00"),
	}
	for _, atomic := range []bool{false, true} {
		items := append([]map[string]any{pay("honest", "carol", "bob", "0.50")}, hostile...)
		if atomic {
			items[0]["id"] = "honest-atomic"
		}
		r := carol.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": items, "atomic": atomic})
		out := e2eJSON[e2eBatchResponse](t, r, http.StatusOK)
		if len(out.Results) != len(items) {
			t.Fatalf("%d results for %d items: %s", len(out.Results), len(items), r)
		}
		for i, res := range out.Results[1:] {
			if res.Status != http.StatusForbidden || res.Problem == nil || res.Problem.Code != forbidden {
				t.Errorf("atomic %v: hostile item %d (%v): %+v %+v", atomic, i, hostile[i], res, res.Problem)
			}
		}
		first := out.Results[0]
		switch {
		case !atomic && first.Status != http.StatusCreated:
			t.Errorf("the honest item of a batch: %+v %+v", first, first.Problem)
		case atomic && (first.Status != http.StatusUnprocessableEntity || first.Problem == nil || first.Problem.Code != "batch_aborted"):
			t.Errorf("the honest item of an atomic batch: %+v %+v", first, first.Problem)
		}
	}
	attempts = append(attempts, "hb-1", "hb-2", "hb-3", "hb-4", "honest-atomic")
	before["carol"], before["bob"] = "0.50", "99.50" // the honest item of the batch that is not atomic

	// Asynchronous submissions are decided by the same rule: the 202 says
	// stored, and the decision refuses them. Commands are decided in
	// order, so once a later synchronous transfer is answered, these were
	// decided.
	for _, body := range hostile[:4] {
		id := body["id"].(string) + "-async"
		body = map[string]any{"id": id, "from": body["from"], "to": body["to"], "amount": body["amount"]}
		e2eJSON[map[string]any](t, carol.do(t, http.MethodPost, tfers, body, async...), http.StatusAccepted)
		attempts = append(attempts, id)
	}
	r := carol.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": hostile[:4]}, async...)
	if r.Status != http.StatusAccepted {
		t.Errorf("asynchronous batch: %s", r)
	}
	e2eJSON[e2eTransfer](t, bob.do(t, http.MethodPost, tfers, pay("after", "bob", "carol", "0.01")), http.StatusCreated)
	before["carol"], before["bob"] = "0.51", "99.49"

	// Nothing moved but the honest transfers; nothing hostile was posted.
	if got := l.account(t, domain.World, "USD").Balance; got != before[domain.World] {
		t.Errorf("world balance %s after the attempts, want %s: money was minted or burnt", got, before[domain.World])
	}
	for _, id := range involved {
		if got := l.account(t, id, "USD").Balance; got != before[id] {
			t.Errorf("%s balance %s after the attempts, want %s", id, got, before[id])
		}
	}
	j := l.journal(t)
	for _, id := range attempts {
		if evs := j.postedEvents(id); len(evs) != 0 {
			t.Errorf("hostile transfer %s was posted: %+v", id, evs[0].Transfer)
		}
	}
	if n := countPosted(j); n != postedBefore+2 {
		t.Errorf("journal has %d TransferPosted events, want %d (before) + 2 (the honest ones)", n, postedBefore)
	}
	j.checkPosted(t, b1)
	l.checkZeroSum(t, "USD", involved...)
}
