package e2e_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// walkTransfers reads every page of GET /v1/transfers?q with page size
// limit (the default when 0), following next_cursor until it is null, and
// checks that pages are full except the last, newest first, without
// duplicates.
func (l *e2eLedger) walkTransfers(t *testing.T, q url.Values, limit int) []e2eTransfer {
	t.Helper()
	q = maps.Clone(q)
	l.settle(t)
	size := 20
	if limit > 0 {
		size = limit
		q.Set("limit", fmt.Sprint(limit))
	}
	var all []e2eTransfer
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("transfers?%s: more than 100 pages", q.Encode())
		}
		page := e2ePageOf[e2eTransfer](t, l.do(t, http.MethodGet, "/v1/transfers?"+q.Encode(), nil))
		if len(page.Data) > size || page.NextCursor != nil && len(page.Data) != size {
			t.Fatalf("transfers?%s: page of %d items (limit %d) with next_cursor %v", q.Encode(), len(page.Data), size, page.NextCursor)
		}
		for _, tr := range page.Data {
			if seen[tr.ID] {
				t.Errorf("transfers?%s: %s listed twice", q.Encode(), tr.ID)
			}
			seen[tr.ID] = true
			if n := len(all); n > 0 && tr.Sequence >= all[n-1].Sequence {
				t.Errorf("transfers?%s: %s (sequence %d) after %s (sequence %d): not newest first",
					q.Encode(), tr.ID, tr.Sequence, all[n-1].ID, all[n-1].Sequence)
			}
			all = append(all, tr)
		}
		if page.NextCursor == nil {
			return all
		}
		q.Set("cursor", *page.NextCursor)
	}
}

// walkEntries reads every page of an account's entries.
func (l *e2eLedger) walkEntries(t *testing.T, id, asset string, limit int) []e2eAccountEntry {
	t.Helper()
	l.settle(t)
	var all []e2eAccountEntry
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("entries of %s: more than 100 pages", id)
		}
		q := url.Values{}
		if id == domain.World || id == domain.FX {
			q.Set("asset", asset)
		}
		if limit > 0 {
			q.Set("limit", fmt.Sprint(limit))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page := e2ePageOf[e2eAccountEntry](t, l.do(t, http.MethodGet, "/v1/accounts/"+id+"/entries?"+q.Encode(), nil))
		size := limit
		if size == 0 {
			size = 20
		}
		if len(page.Data) > size || page.NextCursor != nil && len(page.Data) != size {
			t.Fatalf("entries of %s: page of %d items (limit %d) with next_cursor %v", id, len(page.Data), size, page.NextCursor)
		}
		all = append(all, page.Data...)
		if page.NextCursor == nil {
			return all
		}
		cursor = *page.NextCursor
	}
}

// e2eIDs returns the transfers' ids.
func e2eIDs(ts []e2eTransfer) []string {
	ids := make([]string, len(ts))
	for i, tr := range ts {
		ids[i] = tr.ID
	}
	return ids
}

// TestE2EPagination creates 49 transfers in two assets and lists them
// through every filter, page by page.
func TestE2EPagination(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.defineAsset(t, "EUR", 2)
	usd := []string{"a", "b", "c", "d"}
	for _, id := range usd {
		l.openAccount(t, id, "USD")
	}
	l.openAccount(t, "e1", "EUR")
	l.openAccount(t, "e2", "EUR")

	// created holds every transfer, oldest first.
	var created []e2eTransfer
	for _, id := range usd {
		created = append(created, l.mint(t, id, "100.00"))
	}
	created = append(created, l.mint(t, "e1", "100.00"))
	pairs := [][2]string{{"a", "c"}, {"b", "d"}, {"a", "b"}, {"c", "a"}, {"d", "b"}, {"b", "c"}}
	refs := []string{"coffee %d", "50%% off %d", "under_score %d", "misc %d", "rent %d"}
	for i := range 44 {
		from, to := pairs[i%len(pairs)][0], pairs[i%len(pairs)][1]
		if i%7 == 6 {
			from, to = "e1", "e2"
		}
		body := map[string]any{
			"id":        fmt.Sprintf("page-%02d", i),
			"from":      from,
			"to":        to,
			"amount":    fmt.Sprintf("%d.%02d", 1+i%3, i),
			"reference": fmt.Sprintf(refs[i%len(refs)], i),
		}
		created = append(created, l.post(t, body))
	}
	for i := 1; i < len(created); i++ {
		if !created[i].PostedAt.After(*created[i-1].PostedAt) {
			t.Fatalf("posted_at %v of %s is not after %v", created[i].PostedAt, created[i].ID, created[i-1].PostedAt)
		}
	}
	newest := slices.Clone(created)
	slices.Reverse(newest)

	// The default page size is 20: 49 transfers are pages of 20, 20, 9.
	all := l.walkTransfers(t, url.Values{}, 0)
	if got, want := e2eIDs(all), e2eIDs(newest); !slices.Equal(got, want) {
		t.Errorf("all transfers:\n got %v\nwant %v", got, want)
	}
	for i, tr := range all {
		if i < len(newest) {
			c := newest[i]
			if tr.Status != "posted" || tr.From != c.From || tr.To != c.To || tr.Amount != c.Amount || tr.Asset != c.Asset ||
				tr.Reference != c.Reference || tr.Sequence != c.Sequence || fmt.Sprint(tr.Entries) != fmt.Sprint(c.Entries) {
				t.Errorf("listed %+v\n  posted %+v", tr, c)
			}
		}
	}

	between := func(i int) time.Time { // a time strictly between created[i-1] and created[i]
		a, b := *created[i-1].PostedAt, *created[i].PostedAt
		return a.Add(b.Sub(a) / 2)
	}
	since, until := between(len(created)/3), between(2*len(created)/3)
	rfc := func(tm time.Time) string { return tm.UTC().Format(time.RFC3339Nano) }
	filters := []struct {
		query string
		keep  func(tr e2eTransfer) bool
	}{
		{"account=a", func(tr e2eTransfer) bool { return tr.From == "a" || tr.To == "a" }},
		{"account=world", func(tr e2eTransfer) bool { return tr.From == "world" || tr.To == "world" }},
		{"from=a", func(tr e2eTransfer) bool { return tr.From == "a" }},
		{"to=b", func(tr e2eTransfer) bool { return tr.To == "b" }},
		{"from=b&to=c", func(tr e2eTransfer) bool { return tr.From == "b" && tr.To == "c" }},
		{"asset=USD", func(tr e2eTransfer) bool { return tr.Asset == "USD" }},
		{"asset=EUR", func(tr e2eTransfer) bool { return tr.Asset == "EUR" }},
		{"asset=JPY", func(tr e2eTransfer) bool { return false }},
		{"reference=coffee", func(tr e2eTransfer) bool { return strings.Contains(tr.Reference, "coffee") }},
		{"reference=off", func(tr e2eTransfer) bool { return strings.Contains(tr.Reference, "off") }},
		{"reference=" + url.QueryEscape("%"), func(tr e2eTransfer) bool { return strings.Contains(tr.Reference, "%") }},
		{"reference=_", func(tr e2eTransfer) bool { return strings.Contains(tr.Reference, "_") }},
		{"reference=" + url.QueryEscape(" 1"), func(tr e2eTransfer) bool { return strings.Contains(tr.Reference, " 1") }},
		{"since=" + url.QueryEscape(rfc(since)), func(tr e2eTransfer) bool { return !tr.PostedAt.Before(since) }},
		{"until=" + url.QueryEscape(rfc(until)), func(tr e2eTransfer) bool { return tr.PostedAt.Before(until) }},
		{"since=" + url.QueryEscape(rfc(since)) + "&until=" + url.QueryEscape(rfc(until)),
			func(tr e2eTransfer) bool { return !tr.PostedAt.Before(since) && tr.PostedAt.Before(until) }},
		{"account=a&reference=coffee", func(tr e2eTransfer) bool {
			return (tr.From == "a" || tr.To == "a") && strings.Contains(tr.Reference, "coffee")
		}},
		{"account=b&since=" + url.QueryEscape(rfc(since)), func(tr e2eTransfer) bool {
			return (tr.From == "b" || tr.To == "b") && !tr.PostedAt.Before(since)
		}},
	}
	for _, f := range filters {
		t.Run(f.query, func(t *testing.T) {
			var want []string
			for _, tr := range newest {
				if f.keep(tr) {
					want = append(want, tr.ID)
				}
			}
			q, err := url.ParseQuery(f.query)
			if err != nil {
				t.Fatal(err)
			}
			if f.query != "asset=JPY" && len(want) == 0 {
				t.Fatalf("the fixture has no transfer for %s", f.query)
			}
			for _, limit := range []int{7, 100} {
				if got := e2eIDs(l.walkTransfers(t, q, limit)); !slices.Equal(got, want) {
					t.Errorf("transfers?%s&limit=%d:\n got %v\nwant %v", f.query, limit, got, want)
				}
			}
		})
	}

	// Entries: every account's history, newest first, with the balance
	// after each entry as the postings answered it.
	balances := map[string]string{}
	for _, id := range []string{"a", "b", "c", "d", "e1", "e2"} {
		var want []e2eAccountEntry
		for _, tr := range newest {
			for _, e := range tr.Entries {
				if e.Account == id {
					want = append(want, e2eAccountEntry{TransferID: tr.ID, Sequence: tr.Sequence, Type: e.Type, Amount: e.Amount,
						Balance: e.Balance, Reference: tr.Reference, PostedAt: *tr.PostedAt})
				}
			}
		}
		e2eCheckEntries(t, id, l.walkEntries(t, id, "", 0), want)
		e2eCheckEntries(t, id, l.walkEntries(t, id, "", 3), want)
		balances[id] = want[0].Balance
		if a := l.account(t, id, ""); a.Balance != balances[id] {
			t.Errorf("account %s: balance %s, its newest entry says %s", id, a.Balance, balances[id])
		}
	}
	worldUSD := l.walkEntries(t, "world", "USD", 2)
	if len(worldUSD) != 4 || worldUSD[0].TransferID != created[3].ID || worldUSD[0].Balance != "-400.00" {
		t.Errorf("world's USD entries: %+v, want the 4 mints down to -400.00", worldUSD)
	}

	j := l.journal(t)
	for _, tr := range created {
		j.checkPosted(t, tr)
	}
	l.checkZeroSum(t, "USD", usd...)
	l.checkZeroSum(t, "EUR", "e1", "e2")
}
