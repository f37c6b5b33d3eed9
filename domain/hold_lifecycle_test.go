package domain_test

import (
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// Holds meet the lifecycle: an account a pending hold debits or credits
// cannot be closed, and a freeze since a hold was placed stops its
// posting as it stops a transfer, while a void stays possible.
func TestHoldsAndLifecycle(t *testing.T) {
	h := holdFixture(t)
	h.must(h.open(domain.Account{ID: "carol", Asset: "USD", Owner: "carol"}), domain.Created)
	h.must(h.transfer(domain.Transfer{ID: "h1", From: "alice", To: "carol", Amount: "3", Pending: true}), domain.Posted)
	// carol is at zero, but the hold would credit her: no close.
	wantCode(t, h.do(lifecycleCmd(adminActor, domain.ActionClose, "carol", "", "")), domain.CodeAccountNotEmpty)
	// A freeze of alice's debits stops the posting, not the void.
	h.must(h.do(lifecycleCmd(adminActor, domain.ActionFreeze, "alice", domain.FrozenDebits, "")), domain.Updated)
	wantCode(t, h.hold("h1", domain.HoldPost, "", holdAlice), domain.CodeAccountFrozen)
	h.must(h.do(lifecycleCmd(adminActor, domain.ActionUnfreeze, "alice", "", "")), domain.Updated)
	// carol frozen "all" may not be credited by it either.
	h.must(h.do(lifecycleCmd(adminActor, domain.ActionFreeze, "carol", domain.FrozenAll, "")), domain.Updated)
	wantCode(t, h.hold("h1", domain.HoldPost, "", holdAlice), domain.CodeAccountFrozen)
	h.must(h.hold("h1", domain.HoldVoid, "", holdAlice), domain.Updated)
	// With the hold gone, carol closes (an admin, as she is frozen).
	h.must(h.do(lifecycleCmd(adminActor, domain.ActionClose, "carol", "", "")), domain.Updated)
}

// A reversal and a transaction's leg are refused by a frozen or closed
// account as a transfer is.
func TestReversalsAndTransactionsMeetTheLifecycle(t *testing.T) {
	h := holdFixture(t)
	d := h.must(h.transfer(domain.Transfer{ID: "pay", From: "alice", To: "bob", Amount: "4"}), domain.Posted)
	h.must(h.do(lifecycleCmd(adminActor, domain.ActionFreeze, "bob", domain.FrozenDebits, "")), domain.Updated)
	wantCode(t, h.do(domain.Command{Reversal: &domain.Reversal{ID: "back", Amount: "1", Original: d.Event.Transfer.Transfer}}), domain.CodeAccountFrozen)
	legs := []domain.Leg{{From: "alice", To: "alice2", Amount: "1"}}
	h.must(h.open(domain.Account{ID: "alice2", Asset: "USD"}), domain.Created)
	h.must(h.do(domain.Command{Transaction: &domain.Transaction{ID: "tx-ok", Legs: legs}}), domain.Posted)
	legs = []domain.Leg{{From: "alice", To: "alice2", Amount: "1"}, {From: "bob", To: "alice", Amount: "1"}}
	wantCode(t, h.do(domain.Command{Transaction: &domain.Transaction{ID: "tx-frozen", Legs: legs}}), domain.CodeAccountFrozen)
}
