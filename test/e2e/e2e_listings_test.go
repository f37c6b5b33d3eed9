package e2e_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// listAll pages through GET path?query with page size limit and returns
// the ids in order and the number of pages; every page but the last has a
// next_cursor, and no id comes twice.
func listAll(t *testing.T, l *e2eLedger, query string, limit int) (ids []string, pages int) {
	t.Helper()
	cursor := ""
	for pages < 100 {
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		q.Set("limit", string(rune('0'+limit)))
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page := e2ePageOf[e2eLifeAccount](t, l.do(t, http.MethodGet, "/v1/accounts?"+q.Encode(), nil))
		pages++
		if len(page.Data) > limit {
			t.Fatalf("%s: a page of %d for limit %d", query, len(page.Data), limit)
		}
		for _, a := range page.Data {
			if slices.Contains(ids, a.ID) {
				t.Fatalf("%s: %s on two pages", query, a.ID)
			}
			ids = append(ids, a.ID)
		}
		if page.NextCursor == nil {
			return ids, pages
		}
		cursor = *page.NextCursor
	}
	t.Fatalf("%s: no last page", query)
	return nil, 0
}

// TestE2EAccountListings lists accounts through GET /v1/accounts: by id,
// across pages, filtered by owner, asset, status and one metadata pair
// (alone and together); a non-admin sees only its own accounts whatever
// filter it gives; hostile query parameters are 400 problems.
func TestE2EAccountListings(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.defineAsset(t, "EUR", 2)
	alice := l.as(l.tokenFor(t, "alice", time.Hour, userScopes...))
	bob := l.as(l.tokenFor(t, "bob", time.Hour, userScopes...))
	open := func(as *e2eLedger, id, asset string, meta map[string]string) {
		body := map[string]any{"id": id, "asset": asset}
		if meta != nil {
			body["metadata"] = meta
		}
		e2eJSON[e2eAccount](t, as.do(t, http.MethodPost, "/v1/accounts", body), http.StatusCreated)
	}
	gold := map[string]string{"tier": "gold"}
	open(alice, "a1", "USD", gold)
	open(alice, "a2", "USD", nil)
	open(alice, "a3", "EUR", gold)
	open(alice, "a4", "USD", map[string]string{"tier": "silver"})
	open(alice, "a5", "USD", nil)
	open(bob, "b1", "EUR", gold)
	open(bob, "b2", "EUR", nil)
	open(l, "ops", "USD", nil)
	l.mint(t, "a1", "5.00")
	e2eJSON[e2eLifeAccount](t, l.do(t, http.MethodPost, "/v1/accounts/a2/freeze", map[string]any{"frozen": "debits"}), http.StatusOK)
	e2eJSON[e2eLifeAccount](t, bob.do(t, http.MethodPost, "/v1/accounts/b2/close", nil), http.StatusOK)
	l.settle(t)

	for _, c := range []struct {
		who   *e2eLedger
		query string
		limit int
		want  []string
		pages int
	}{
		{l, "", 3, []string{"a1", "a2", "a3", "a4", "a5", "b1", "b2", "ops"}, 3},
		{l, "owner=alice", 2, []string{"a1", "a2", "a3", "a4", "a5"}, 3},
		{l, "asset=EUR", 2, []string{"a3", "b1", "b2"}, 2},
		{l, "owner=alice&asset=USD", 9, []string{"a1", "a2", "a4", "a5"}, 1},
		{l, "status=frozen", 9, []string{"a2"}, 1},
		{l, "status=closed&asset=EUR", 9, []string{"b2"}, 1},
		{l, "status=open&owner=bob", 9, []string{"b1"}, 1},
		{l, "metadata[tier]=gold", 1, []string{"a1", "a3", "b1"}, 3},
		{l, "metadata[tier]=gold&asset=EUR&owner=bob", 9, []string{"b1"}, 1},
		{l, "metadata[tier]=bronze", 9, nil, 1},
		// A non-admin sees its own accounts only, whatever it asks.
		{alice, "", 2, []string{"a1", "a2", "a3", "a4", "a5"}, 3},
		{alice, "owner=bob", 9, nil, 1},
		{alice, "asset=EUR", 9, []string{"a3"}, 1},
		{bob, "metadata[tier]=gold", 9, []string{"b1"}, 1},
	} {
		ids, pages := listAll(t, c.who, c.query, c.limit)
		if !slices.Equal(ids, c.want) || pages != c.pages {
			t.Errorf("%q (token %s, limit %d): %v in %d pages, want %v in %d", c.query, c.who.token[:8], c.limit, ids, pages, c.want, c.pages)
		}
	}

	// A listed account is the account's view: balance, status, metadata.
	page := e2ePageOf[e2eLifeAccount](t, l.do(t, http.MethodGet, "/v1/accounts?owner=alice&limit=2", nil))
	if a := page.Data[0]; a.ID != "a1" || a.Balance != "5.00" || a.Status != "open" || a.Metadata["tier"] != "gold" || a.Owner != "alice" {
		t.Errorf("a1 listed as %+v", a)
	}
	if a := page.Data[1]; a.Status != "frozen" || a.Frozen != "debits" {
		t.Errorf("a2 listed as %+v", a)
	}

	// Hostile query parameters.
	for _, q := range []string{
		"limit=0", "limit=101", "limit=abc", "limit=-1", "cursor=%21%21%21", "cursor=" + strings.Repeat("QUFB", 40),
		"status=deleted", "asset=usd", "asset=" + strings.Repeat("A", 17), "owner=" + strings.Repeat("o", 600), "owner=%FF",
		"metadata[a]=1&metadata[b]=2", "metadata[]=x", "metadata[tier]=" + strings.Repeat("v", 513),
		"owner=alice&owner=bob", "foo=1", "metadata=gold",
	} {
		e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/accounts?"+q, nil), http.StatusBadRequest, "validation_failed", "")
		e2eCheckProblem(t, alice.do(t, http.MethodGet, "/v1/accounts?"+q, nil), http.StatusBadRequest, "validation_failed", "")
	}
	// Without accounts:read, nothing.
	noRead := l.as(l.tokenFor(t, "carol", time.Hour, "transfers:read"))
	e2eCheckProblem(t, noRead.do(t, http.MethodGet, "/v1/accounts", nil), http.StatusForbidden, "forbidden", "")
}

// TestE2EAssetListings lists assets through GET /v1/assets by code, across
// pages; hostile query parameters are 400 problems.
func TestE2EAssetListings(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	for _, code := range []string{"USD", "EUR", "BTC", "JPY", "POINTS"} {
		l.defineAsset(t, code, 2)
	}
	l.settle(t)
	var codes []string
	cursor, pages := "", 0
	for {
		q := "/v1/assets?limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		page := e2ePageOf[struct {
			Code     string `json:"code"`
			Scale    int    `json:"scale"`
			Sequence uint64 `json:"sequence"`
		}](t, l.do(t, http.MethodGet, q, nil))
		pages++
		for _, a := range page.Data {
			if a.Scale != 2 || a.Sequence == 0 {
				t.Errorf("asset %+v", a)
			}
			codes = append(codes, a.Code)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if want := []string{"BTC", "EUR", "JPY", "POINTS", "USD"}; !slices.Equal(codes, want) || pages != 3 {
		t.Fatalf("assets %v in %d pages, want %v in 3", codes, pages, want)
	}
	for _, q := range []string{"limit=0", "limit=1000", "cursor=%21", "asset=USD", "limit=1&limit=2"} {
		e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/assets?"+q, nil), http.StatusBadRequest, "validation_failed", "")
	}
}
