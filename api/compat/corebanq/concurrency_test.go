package corebanq_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// Concurrent transfers from one ledger, each with its own key: exactly
// as many post as the balance allows, the others are insufficient_funds,
// and no balance goes below zero.
func TestConcurrentDoubleSpend(t *testing.T) {
	f := setup(t)
	const n, amount = 20, 1500 // 10000 allows 6
	statuses := make([]int, n)
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], bodies[i] = f.transfer(t, aliceLedger, f.alice, map[string]any{
				"destination_ledger_id": bobLedger, "amount": amount, "transaction_id": fmt.Sprintf("spend-%d", i)})
		}()
	}
	wg.Wait()
	posted := 0
	for i, s := range statuses {
		switch s {
		case http.StatusCreated:
			posted++
		default:
			wantError(t, fmt.Sprintf("transfer %d", i), s, bodies[i], http.StatusUnprocessableEntity, "ledger.insufficient_funds")
		}
	}
	if posted != 6 {
		t.Errorf("%d transfers posted, want 6", posted)
	}
	if a, b := f.nativeBalance(t, aliceLedger), f.nativeBalance(t, bobLedger); a != "10.00" || b != "90.00" {
		t.Errorf("alice %s, bob %s; want 10.00 and 90.00", a, b)
	}
	if got := f.nativeTransfers(t, aliceLedger); got != 1+6 {
		t.Errorf("alice's ledger has %d transfers, want the mint and 6", got)
	}
	f.l.Audit(t)
}
