package corebanq_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// A retry with the same transaction_id and body answers 201 with the
// original transfer (same ids, same balances after, even once the ledger
// has moved on) and posts nothing more; the ledger id's case does not
// matter.
func TestRetryReturnsTheOriginal(t *testing.T) {
	f := setup(t)
	body := `{"destination_ledger_id":"` + bobLedger + `","amount":250,"transaction_id":"retry-1","description":"book","metadata":{"a":"b"}}`
	path := "/v1/ledgers/" + aliceLedger + "/transfer"
	status, first := f.do(t, http.MethodPost, path, f.alice, body)
	if status != http.StatusCreated {
		t.Fatalf("first: %d %s", status, first)
	}
	// The ledger moves on before the retry.
	f.mustTransfer(t, aliceLedger, f.alice, map[string]any{"destination_ledger_id": bobLedger, "amount": 1, "transaction_id": "other"})
	for _, p := range []string{path, "/v1/ledgers/" + strings.ToUpper(aliceLedger) + "/transfer"} {
		status, again := f.do(t, http.MethodPost, p, f.alice, body)
		if status != http.StatusCreated || !bytes.Equal(again, first) {
			t.Errorf("retry on %s: %d %s\nwant 201 %s", p, status, again, first)
		}
	}
	if a := f.nativeBalance(t, aliceLedger); a != "97.49" {
		t.Errorf("alice %s, want 97.49: the retry moved money", a)
	}
	if n := f.nativeTransfers(t, aliceLedger); n != 3 {
		t.Errorf("alice's ledger has %d transfers, want the mint and two", n)
	}
	f.l.Audit(t)
}

// The same transaction_id with another body is transfer.conflict and
// moves nothing; keys are per source ledger, so bob may use alice's.
func TestConflictingRetry(t *testing.T) {
	f := setup(t)
	f.mustTransfer(t, aliceLedger, f.alice, map[string]any{"destination_ledger_id": bobLedger, "amount": 100, "transaction_id": "dup"})
	for name, body := range map[string]map[string]any{
		"amount":      {"destination_ledger_id": bobLedger, "amount": 101, "transaction_id": "dup"},
		"description": {"destination_ledger_id": bobLedger, "amount": 100, "transaction_id": "dup", "description": "x"},
		"metadata":    {"destination_ledger_id": bobLedger, "amount": 100, "transaction_id": "dup", "metadata": map[string]string{"k": "v"}},
		"destination": {"destination_ledger_id": carolLedger, "amount": 100, "transaction_id": "dup"},
	} {
		status, data := f.transfer(t, aliceLedger, f.alice, body)
		wantError(t, "another "+name, status, data, http.StatusConflict, "transfer.conflict")
	}
	if a := f.nativeBalance(t, aliceLedger); a != "99.00" {
		t.Errorf("alice %s, want 99.00", a)
	}
	f.mustTransfer(t, bobLedger, f.bob, map[string]any{"destination_ledger_id": aliceLedger, "amount": 100, "transaction_id": "dup"})
	if a, b := f.nativeBalance(t, aliceLedger), f.nativeBalance(t, bobLedger); a != "100.00" || b != "0.00" {
		t.Errorf("after bob's transfer with the same key: alice %s, bob %s", a, b)
	}
	f.l.Audit(t)
}
