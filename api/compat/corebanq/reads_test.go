package corebanq_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/nats-ledger/ledger/api/compat/corebanq"
	"github.com/nats-ledger/ledger/internal/ledgertest"
)

// GET /v1/ledgers/{id} and /balance show the ledger in minor units to its
// owner and to an admin, and refuse everyone else.
func TestReadLedger(t *testing.T) {
	f := setup(t)
	status, data := f.do(t, http.MethodGet, "/v1/ledgers/"+bobLedger, f.bob, "")
	var fresh corebanq.LedgerView
	if status != http.StatusOK || json.Unmarshal(data, &fresh) != nil || fresh.LastActivityDate != nil ||
		fresh.BalanceCurrent != "0" || fresh.OverdraftEnabled || fresh.OverdraftLimit == nil || *fresh.OverdraftLimit != "0" {
		t.Fatalf("a new ledger: %d %s", status, data)
	}
	res := f.mustTransfer(t, aliceLedger, f.alice, map[string]any{"destination_ledger_id": bobLedger, "amount": 1234, "transaction_id": "r-1"})
	admin := ledgertest.AdminToken
	for _, token := range []string{f.alice, admin} {
		status, data := f.do(t, http.MethodGet, "/v1/ledgers/"+aliceLedger, token, "")
		var v corebanq.LedgerView
		if status != http.StatusOK || json.Unmarshal(data, &v) != nil {
			t.Fatalf("ledger: %d %s", status, data)
		}
		if v.ID != aliceLedger || v.CurrencyCode != "EUR" || v.BalanceCurrent != "8766" || v.BalanceAvailable != "8766" ||
			v.LastActivityDate == nil || *v.LastActivityDate != res.Timestamp || v.OpeningDate == "" || v.CreatedAt == "" {
			t.Errorf("ledger %s", data)
		}
		status, data = f.do(t, http.MethodGet, "/v1/ledgers/"+aliceLedger+"/balance", token, "")
		var b corebanq.BalanceView
		if status != http.StatusOK || json.Unmarshal(data, &b) != nil || b.LedgerID != aliceLedger || b.BalanceCurrent != "8766" ||
			b.CurrencyCode != "EUR" || b.LastActivityDate == nil {
			t.Errorf("balance: %d %s", status, data)
		}
	}
	noRead := f.l.Token(t, "alice", "transfers:write")
	for _, p := range []string{"", "/balance", "/entries"} {
		for _, c := range []struct {
			name, path, token string
			status            int
			code              string
		}{
			{"no token", aliceLedger, "", 401, "auth.unauthorized"},
			{"no accounts:read", aliceLedger, noRead, 403, "auth.forbidden"},
			{"another owner", aliceLedger, f.bob, 403, "auth.forbidden"},
			{"unknown", unknownLedger, f.alice, 404, "ledger.not_found"},
			{"not a UUID", "alice", f.alice, 400, "request.invalid"},
		} {
			status, data := f.do(t, http.MethodGet, "/v1/ledgers/"+c.path+p, c.token, "")
			wantError(t, c.name+" "+p, status, data, c.status, c.code)
		}
	}
}

// GET /v1/ledgers/{id}/entries lists the ledger's entries newest first,
// each as the transfer's answer showed it, page by page with a cursor; a
// mint shows with its native id and no creator.
func TestReadEntries(t *testing.T) {
	f := setup(t)
	var made []corebanq.TransferResult
	for i := range 5 {
		made = append(made, f.mustTransfer(t, aliceLedger, f.alice, map[string]any{"destination_ledger_id": bobLedger,
			"amount": 100 + i, "transaction_id": fmt.Sprintf("e-%d", i), "description": fmt.Sprintf("n%d", i)}))
	}
	var got []corebanq.Entry
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		q := url.Values{"limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		status, data := f.do(t, http.MethodGet, "/v1/ledgers/"+aliceLedger+"/entries?"+q.Encode(), f.alice, "")
		var page corebanq.EntriesPage
		if status != http.StatusOK || json.Unmarshal(data, &page) != nil {
			t.Fatalf("entries: %d %s", status, data)
		}
		got = append(got, page.Data...)
		if page.HasMore != (page.NextCursor != nil) {
			t.Fatalf("has_more %v with next_cursor %v", page.HasMore, page.NextCursor)
		}
		if !page.HasMore {
			break
		}
		cursor = *page.NextCursor
	}
	if len(got) != 6 {
		t.Fatalf("%d entries, want 5 transfers and the mint", len(got))
	}
	for i := range 5 {
		if want := made[4-i].SourceEntry; !reflect.DeepEqual(got[i], want) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], want)
		}
	}
	mint := got[5]
	if mint.Type != "credit" || mint.Amount != "10000" || mint.Balance != "10000" || mint.CreatedBy != "" ||
		mint.TransactionID == "" || mint.LedgerID != aliceLedger {
		t.Errorf("the mint's entry %+v", mint)
	}
	// Bob sees the credits on his side.
	status, data := f.do(t, http.MethodGet, "/v1/ledgers/"+bobLedger+"/entries", f.bob, "")
	var bob corebanq.EntriesPage
	if status != http.StatusOK || json.Unmarshal(data, &bob) != nil || len(bob.Data) != 5 ||
		!reflect.DeepEqual(bob.Data[0], made[4].DestinationEntry) || bob.HasMore {
		t.Errorf("bob's entries: %d %s", status, data)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=not-a-cursor", "limit=1&limit=2", "limit=5&cursor=" + url.QueryEscape(cursor) + "&cursor=" + url.QueryEscape(cursor)} {
		status, data := f.do(t, http.MethodGet, "/v1/ledgers/"+aliceLedger+"/entries?"+q, f.alice, "")
		wantError(t, q, status, data, http.StatusBadRequest, "request.invalid")
	}
}
