package allmine_test

import (
	"net/http"
	"sync"
	"testing"
)

// Concurrent transfers from one user spend exactly what the balance
// allows: 100 covers three of ten concurrent 30s; the others are refused
// for want of funds, whoever wins the race.
func TestConcurrentDoubleSpend(t *testing.T) {
	f := start(t)
	f.openUser(t, "alice", "100")
	f.openUser(t, "bob", "")
	tok := f.token(t, "alice")

	const requests = 10
	statuses := make([]int, requests)
	bodies := make([][]byte, requests)
	errs := make([]error, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() { statuses[i], bodies[i], errs[i] = f.try(http.MethodPost, path, tok, transferBody("bob", "30")) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	posted := 0
	for i, s := range statuses {
		switch s {
		case http.StatusOK:
			posted++
		default:
			wantEnvelope(t, "refused spend", s, bodies[i], http.StatusBadRequest, "insufficient balance")
		}
	}
	if posted != 3 {
		t.Fatalf("%d transfers of 30 posted from 100", posted)
	}
	if a, b := f.balance(t, "alice"), f.balance(t, "bob"); a != "10.00" || b != "90.00" {
		t.Fatalf("balances alice %s bob %s", a, b)
	}
	f.l.Audit(t)
}
