package allmine_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/api/compat"
)

// Without a key each request is a new transfer, as in the original. With
// an Idempotency-Key (an extension) a retry returns the original answer,
// balances as they were then, and moves nothing more; the same key with
// another body is 409; another user's same key is its own transfer; a
// refused request does not spend its key.
func TestIdempotencyKey(t *testing.T) {
	f := start(t)
	f.openUser(t, "alice", "100")
	f.openUser(t, "bob", "100")
	f.openUser(t, "bob2", "")
	alice, bob := f.token(t, "alice"), f.token(t, "bob")

	// No key: two identical requests are two transfers.
	for _, want := range []string{"90", "80"} {
		status, body := f.post(t, alice, transferBody("bob2", "10"))
		if status != 200 || !contains(body, `"senderBalance":`+want+`,`) {
			t.Fatalf("keyless transfer: %d %s", status, body)
		}
	}

	status, first := f.post(t, alice, transferBody("bob", "25"), "Idempotency-Key", "order-7")
	want := `{"senderId":"alice","recipientId":"bob","transferredAmount":25,"senderBalance":55,"recipientBalance":125}` + "\n"
	if status != 200 || string(first) != want {
		t.Fatalf("first: %d %s", status, first)
	}
	// Money moves in between; the retry still answers the original.
	if status, body := f.post(t, alice, transferBody("bob2", "5")); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	for range 2 {
		status, again := f.post(t, alice, transferBody("bob", "25"), "Idempotency-Key", "order-7")
		if status != 200 || string(again) != want {
			t.Fatalf("retry: %d %s, want %s", status, again, want)
		}
	}
	status, body := f.post(t, alice, transferBody("bob", "26"), "Idempotency-Key", "order-7")
	wantEnvelope(t, "same key, another amount", status, body, http.StatusConflict, "with a different body")
	status, body = f.post(t, alice, transferBody("bob2", "25"), "Idempotency-Key", "order-7")
	wantEnvelope(t, "same key, another recipient", status, body, http.StatusConflict, "with a different body")

	// bob's "order-7" is bob's own transfer.
	status, body = f.post(t, bob, transferBody("alice", "1"), "Idempotency-Key", "order-7")
	if status != 200 || string(body) != `{"senderId":"bob","recipientId":"alice","transferredAmount":1,"senderBalance":124,"recipientBalance":51}`+"\n" {
		t.Fatalf("bob's order-7: %d %s", status, body)
	}

	// A refused request does not spend its key: once funded, the retry
	// posts.
	status, body = f.post(t, alice, transferBody("bob", "500"), "Idempotency-Key", "big")
	wantEnvelope(t, "insufficient", status, body, http.StatusBadRequest, "balance was 51.00 ALLMINE, at least 500.00 ALLMINE")
	f.l.Mint(t, "allmine:alice", "ALLMINE", "449")
	status, body = f.post(t, alice, transferBody("bob", "500"), "Idempotency-Key", "big")
	if status != 200 || string(body) != `{"senderId":"alice","recipientId":"bob","transferredAmount":500,"senderBalance":0,"recipientBalance":624}`+"\n" {
		t.Fatalf("funded retry: %d %s", status, body)
	}

	if a, b, b2 := f.balance(t, "alice"), f.balance(t, "bob"), f.balance(t, "bob2"); a != "0.00" || b != "624.00" || b2 != "25.00" {
		t.Fatalf("balances alice %s bob %s bob2 %s", a, b, b2)
	}
	// The native transfer id is derived from the user and the key
	// (compat.TransferID), so an operator finds it.
	f.l.Must(t, http.StatusOK, http.MethodGet, "/v1/transfers/"+compat.TransferID("allmine", "alice", "order-7"), nil)
	f.l.Audit(t)
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
