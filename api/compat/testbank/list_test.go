package testbank_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// TestFiltersAndPages: each filter, page[limit] at 100, 101 and 0,
// page[page] at 0 and past the end, newest first, and the pagination
// URLs in meta (null where there is none).
func TestFiltersAndPages(t *testing.T) {
	e := start(t)
	alice := e.newUser(t, "Alice", true)
	bob := e.newUser(t, "Bob", false)
	a1 := e.newAccount(t, alice, "One", "", "USD")
	a2 := e.newAccount(t, alice, "Two", "", "USD")
	b := e.newAccount(t, bob, "Bob", "PUBLIC", "USD")
	e.send(t, alice, "1000.00", "credit", "ROOT", a1.ID).one(t, http.StatusOK)
	// 24 more: a1->a2 (even i) and a1->b (odd i), references "pay-<i>".
	for i := range 24 {
		to := a2.ID
		if i%2 == 1 {
			to = b.ID
		}
		e.send(t, alice, "1.00", fmt.Sprintf("pay-%02d", i), a1.ID, to).one(t, http.StatusOK)
	}
	e.send(t, alice, "2.00", "back", a2.ID, a1.ID).one(t, http.StatusOK)

	list := func(query string) ([]resource, map[string]any) {
		t.Helper()
		return e.do(t, alice.Token, http.MethodGet, "/transactions?"+query, "").many(t)
	}
	// Default page: 20 of 26, newest first.
	page, meta := list("")
	if len(page) != 20 || page[0].Attributes["reference"] != "back" || page[1].Attributes["reference"] != "pay-23" {
		t.Fatalf("default page: %d, first %v", len(page), page[0].Attributes)
	}
	checkLinks(t, meta, map[string]string{"first": "1", "prev": "", "next": "2", "last": "2"}, "20")
	page, meta = list("page[page]=2")
	if len(page) != 6 || page[5].Attributes["reference"] != "credit" {
		t.Fatalf("page 2: %d", len(page))
	}
	checkLinks(t, meta, map[string]string{"first": "1", "prev": "1", "next": "", "last": "2"}, "20")
	// Past the end: empty, with a way back.
	page, meta = list("page[page]=9&page[limit]=5")
	if len(page) != 0 {
		t.Fatalf("past the end: %d", len(page))
	}
	checkLinks(t, meta, map[string]string{"first": "1", "prev": "6", "next": "", "last": "6"}, "5")
	if page, _ = list("page[limit]=100"); len(page) != 26 {
		t.Fatalf("limit 100: %d", len(page))
	}
	for _, q := range []string{"page[limit]=101", "page[limit]=0", "page[limit]=-1", "page[limit]=x", "page[page]=0"} {
		param, _, _ := cut(q)
		e.do(t, alice.Token, http.MethodGet, "/transactions?"+q, "").fails(t, http.StatusBadRequest, "VALIDATION_ERROR", param)
	}
	// Filters.
	counts := map[string]int{
		"filter[account]=" + b.ID:                                12,
		"filter[sender]=" + a2.ID:                                1,
		"filter[recipient]=" + a2.ID:                             12,
		"filter[sender]=ROOT":                                    1,
		"filter[reference]=pay-1":                                10, // pay-10 .. pay-19
		"filter[reference]=ay-0":                                 10,
		"filter[reference]=nothing":                              0,
		"filter[account]=" + a2.ID + "&filter[reference]=back":   1,
		"filter[sender]=" + a1.ID + "&filter[recipient]=" + b.ID: 12,
	}
	for q, want := range counts {
		if page, _ := list(q + "&page[limit]=100"); len(page) != want {
			t.Errorf("%s: %d, want %d", q, len(page), want)
		}
	}
	// Bob sees only what touches his account, whatever the filter.
	if page, _ := e.do(t, bob.Token, http.MethodGet, "/transactions?filter[account]="+a2.ID, "").many(t); len(page) != 0 {
		t.Fatalf("bob filters alice's account: %d", len(page))
	}
}

func cut(q string) (string, string, bool) {
	for i := range q {
		if q[i] == '=' {
			return q[:i], q[i+1:], true
		}
	}
	return q, "", false
}

// checkLinks checks each pagination URL's page (empty: null) and limit.
func checkLinks(t *testing.T, meta map[string]any, want map[string]string, limit string) {
	t.Helper()
	for k, page := range want {
		v, ok := meta[k]
		if !ok {
			t.Fatalf("meta has no %s: %v", k, meta)
		}
		if page == "" {
			if v != nil {
				t.Fatalf("meta.%s = %v, want null", k, v)
			}
			continue
		}
		s, _ := v.(string)
		u, err := url.Parse(s)
		if err != nil || u.Path != "/transactions" || u.Query().Get("page[page]") != page || u.Query().Get("page[limit]") != limit {
			t.Fatalf("meta.%s = %v, want page %s limit %s", k, v, page, limit)
		}
	}
}
