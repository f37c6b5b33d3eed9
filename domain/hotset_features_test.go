package domain_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// Reversals, transactions and holds decide the same with a tiny hot set
// as with every id in memory: a reversal of a transfer whose id left the
// hot set long ago is accepted (its original is looked up in the
// archive), a retried reversal or transaction replays, and a snapshot
// taken while a pending hold's id is archived loads.
func TestArchivedIDsWithReversalsTransactionsAndHolds(t *testing.T) {
	now := time.Unix(0, 0)
	ref := domain.NewState()
	hot := &archived{st: domain.NewState(), arch: memArchive{}, capacity: 8}
	seq := uint64(0)
	both := func(step string, c domain.Command) domain.Decision {
		t.Helper()
		seq++
		c.Ref = domain.CommandRef{Seq: seq}
		got, want := hot.decide(c, now), ref.Decide(c, now)
		matchDecision(t, step, got, want)
		return got
	}
	both("asset", domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	for _, id := range []string{"a", "b"} {
		both("open "+id, domain.Command{Account: &domain.Account{ID: id, Asset: "USD"}})
	}
	both("fund", domain.Command{Transfer: &domain.Transfer{ID: "fund", From: domain.World, To: "a", Amount: "1000"}})
	old := both("old", domain.Command{Transfer: &domain.Transfer{ID: "old", From: "a", To: "b", Amount: "50"}})
	both("hold", domain.Command{Transfer: &domain.Transfer{ID: "hold-1", From: "a", To: "b", Amount: "5", Pending: true}})
	for i := range 40 {
		both("filler", domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("f-%d", i), From: "a", To: "b", Amount: "1"}})
	}
	if hot.evicted == 0 || hot.st.ArchivedThrough() == 0 {
		t.Fatal("nothing was archived: the test proves nothing")
	}
	// The snapshot of a state whose pending hold's id is archived loads.
	hot.st = snapshotRoundTrip(t, hot.st)
	orig := old.Event.Transfer.Transfer
	rv := domain.Command{Reversal: &domain.Reversal{ID: "rv-1", Amount: "10", Original: orig}}
	both("reverse an archived original", rv)
	for i := range 20 {
		both("filler", domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("g-%d", i), From: "b", To: "a", Amount: "1"}})
	}
	both("retry the archived reversal", rv)
	tx := domain.Command{Transaction: &domain.Transaction{ID: "tx-1", Legs: []domain.Leg{{From: "a", To: "b", Amount: "2"}, {From: "b", To: "a", Amount: "1"}}}}
	both("transaction", tx)
	for i := range 20 {
		both("filler", domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("h-%d", i), From: "a", To: "b", Amount: "1"}})
	}
	if d := both("retry the archived transaction", tx); d.Outcome != domain.Replayed {
		t.Fatalf("retry of tx-1: outcome %d", d.Outcome)
	}
	both("post the hold", domain.Command{Hold: &domain.HoldAction{ID: "hold-1", Action: domain.HoldPost}})
}
