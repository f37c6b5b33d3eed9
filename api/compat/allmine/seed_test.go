package allmine_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The seed's example request, through the adapter's listener: the sender
// (the token's subject) had 100 and the recipient 100; 25 moves, and the
// answer is the seed's shape with its values as JSON numbers. The seed
// shows the sender's id as recipientId too, a slip of its example; the
// adapter answers with the recipient's. The transfer is native: visible
// through the native API, and the journal passes the audit.
func TestSeedCreditTransfer(t *testing.T) {
	f := start(t)
	f.openUser(t, seedSender, "100")
	f.openUser(t, seedRecipient, "100")

	status, body := f.post(t, f.token(t, seedSender), `{
    "recipientId": "64d15f9e2e6c8f4d5a654321",
    "amount": 25
  }`)
	want := `{"senderId":"64d15f9e2e6c8f4d5a123456","recipientId":"64d15f9e2e6c8f4d5a654321","transferredAmount":25,"senderBalance":75,"recipientBalance":125}` + "\n"
	if status != http.StatusOK || string(body) != want {
		t.Fatalf("got %d %s, want 200 %s", status, body, want)
	}

	// A fraction is a JSON number too, exact, without trailing zeros.
	status, body = f.post(t, f.token(t, seedSender), transferBody(seedRecipient, "0.5"))
	want = `{"senderId":"64d15f9e2e6c8f4d5a123456","recipientId":"64d15f9e2e6c8f4d5a654321","transferredAmount":0.5,"senderBalance":74.5,"recipientBalance":125.5}` + "\n"
	if status != http.StatusOK || string(body) != want {
		t.Fatalf("got %d %s, want 200 %s", status, body, want)
	}

	// The native API sees both transfers, from the sender's account to the
	// recipient's, in ALLMINE, and the balances.
	if s, r := f.balance(t, seedSender), f.balance(t, seedRecipient); s != "74.50" || r != "125.50" {
		t.Fatalf("native balances %s %s", s, r)
	}
	var page struct {
		Data []struct {
			From, To, Amount, Asset, Reference, Status string
		} `json:"data"`
	}
	data := f.l.Must(t, http.StatusOK, http.MethodGet, "/v1/transfers?from=allmine:"+seedSender, nil)
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 {
		t.Fatalf("native transfers: %s", data)
	}
	for i, amount := range []string{"0.50", "25.00"} { // newest first
		tr := page.Data[i]
		if tr.From != "allmine:"+seedSender || tr.To != "allmine:"+seedRecipient || tr.Amount != amount ||
			tr.Asset != "ALLMINE" || tr.Reference != "allmine credit-transfer" || tr.Status != "posted" {
			t.Fatalf("native transfer %d: %+v", i, tr)
		}
	}
	f.l.Audit(t)
}

// A user's account is opened on first use, owned by the user (the token's
// subject) with no overdraft: a new user's first transfer opens it and is
// refused for want of funds; once an operator funds it, the user pays.
func TestSenderOpenedOnFirstUse(t *testing.T) {
	f := start(t)
	f.openUser(t, "bob", "")
	if f.balance(t, "newbie") != "" {
		t.Fatal("newbie has an account before any request")
	}
	status, body := f.post(t, f.token(t, "newbie"), transferBody("bob", "10"))
	wantEnvelope(t, "first transfer", status, body, http.StatusBadRequest,
		"insufficient balance: balance was 0.00 ALLMINE, at least 10.00 ALLMINE is required")

	var acc struct{ Owner, Asset, Balance string }
	data := f.l.Must(t, http.StatusOK, http.MethodGet, "/v1/accounts/allmine:newbie", nil)
	if err := json.Unmarshal(data, &acc); err != nil {
		t.Fatal(err)
	}
	if acc.Owner != "newbie" || acc.Asset != "ALLMINE" || acc.Balance != "0.00" {
		t.Fatalf("opened account: %s", data)
	}
	if v := f.accountField(t, "newbie", "overdraft_limit"); v != "0.00" {
		t.Fatalf("overdraft limit %q", v)
	}

	f.l.Mint(t, "allmine:newbie", "ALLMINE", "10")
	status, body = f.post(t, f.token(t, "newbie"), transferBody("bob", "10"))
	want := `{"senderId":"newbie","recipientId":"bob","transferredAmount":10,"senderBalance":0,"recipientBalance":10}` + "\n"
	if status != http.StatusOK || string(body) != want {
		t.Fatalf("got %d %s, want 200 %s", status, body, want)
	}
	f.l.Audit(t)
}

func (f *fixture) accountField(t *testing.T, user, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(f.l.Must(t, http.StatusOK, http.MethodGet, "/v1/accounts/allmine:"+user, nil), &m); err != nil {
		t.Fatal(err)
	}
	s, _ := m[field].(string)
	return s
}
