package e2e_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestE2EBalanceAsOf reads balances at past journal sequences and times.
func TestE2EBalanceAsOf(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	beforeAll := time.Now().Add(-time.Hour)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "saver", "USD")
	l.openAccount(t, "shop", "USD")
	steps := []struct {
		body   string
		saver  string
		world  string
		posted e2eTransfer
	}{
		{body: `{"from":"world","to":"saver","amount":"10.00"}`, saver: "10.00", world: "-10.00"},
		{body: `{"from":"world","to":"saver","amount":"5.25"}`, saver: "15.25", world: "-15.25"},
		{body: `{"from":"saver","to":"shop","amount":"3.00"}`, saver: "12.25", world: "-15.25"},
		{body: `{"from":"saver","to":"world","amount":"2.25"}`, saver: "10.00", world: "-13.00"},
		{body: `{"from":"world","to":"saver","amount":"0.01"}`, saver: "10.01", world: "-13.01"},
	}
	for i := range steps {
		steps[i].posted = l.post(t, steps[i].body)
		if i > 0 && !steps[i].posted.PostedAt.After(*steps[i-1].posted.PostedAt) {
			t.Fatalf("posted_at %v of step %d is not after %v", steps[i].posted.PostedAt, i, steps[i-1].posted.PostedAt)
		}
	}
	balance := func(t *testing.T, id, asOf string) e2eBalance {
		t.Helper()
		path := e2eAccountPath(id, "USD", "/balance")
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		l.settle(t)
		b := e2eJSON[e2eBalance](t, l.do(t, http.MethodGet, path+sep+"as_of="+url.QueryEscape(asOf), nil), http.StatusOK)
		if b.Account != id {
			t.Errorf("balance of %s names account %q", id, b.Account)
		}
		return b
	}
	first := steps[0].posted.Sequence
	last := steps[len(steps)-1].posted.Sequence
	for i, s := range steps {
		seq := s.posted.Sequence
		if b := balance(t, "saver", fmt.Sprint(seq)); b.Balance != s.saver || b.AsOf.Sequence != seq {
			t.Errorf("saver as_of=%d: %+v, want %s", seq, b, s.saver)
		}
		if b := balance(t, "world", fmt.Sprint(seq)); b.Balance != s.world {
			t.Errorf("world as_of=%d: %s, want %s", seq, b.Balance, s.world)
		}
		at := *s.posted.PostedAt
		if b := balance(t, "saver", at.Format(time.RFC3339Nano)); b.Balance != s.saver {
			t.Errorf("saver as_of=%s (posted_at of step %d): %s, want %s", at.Format(time.RFC3339Nano), i, b.Balance, s.saver)
		}
		if i+1 < len(steps) {
			mid := at.Add(steps[i+1].posted.PostedAt.Sub(at) / 2)
			for _, form := range []string{mid.UTC().Format(time.RFC3339Nano), mid.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)} {
				if b := balance(t, "saver", form); b.Balance != s.saver {
					t.Errorf("saver as_of=%s (after step %d): %s, want %s", form, i, b.Balance, s.saver)
				}
			}
		}
	}
	for _, c := range []struct{ asOf, want string }{
		{fmt.Sprint(first - 1), "0.00"},
		{beforeAll.Format(time.RFC3339), "0.00"},
		{steps[0].posted.PostedAt.Add(-time.Nanosecond).Format(time.RFC3339Nano), "0.00"},
		{fmt.Sprint(last + 1000), "10.01"},
		{"2999-01-01T00:00:00Z", "10.01"},
	} {
		if b := balance(t, "saver", c.asOf); b.Balance != c.want {
			t.Errorf("saver as_of=%s: %s, want %s", c.asOf, b.Balance, c.want)
		}
	}
	if b := balance(t, "shop", fmt.Sprint(steps[1].posted.Sequence)); b.Balance != "0.00" {
		t.Errorf("shop before its first entry: %s, want 0.00", b.Balance)
	}
	// as_of=0: before the first event, as documented.
	for _, id := range []string{"saver", "world"} {
		if b := balance(t, id, "0"); b.Balance != "0.00" || b.AsOf.Sequence != 0 || b.Asset != "USD" {
			t.Errorf("%s as_of=0: %+v, want 0.00 as of sequence 0", id, b)
		}
	}

	j := l.journal(t)
	for _, s := range steps {
		j.checkPosted(t, s.posted)
	}
	l.checkZeroSum(t, "USD", "saver", "shop")
}

// TestE2EReadYourWrites checks that what a 201 reports is readable at
// once: the transfer by its id and both accounts' balances. The read
// models lag the journal, but accounts (201 after the read model has the
// account), replays (200 after it has the transfer) and 202s (GET answers
// "pending") all hide that lag; a posting must not answer 201 and then
// read as 404 transfer_not_found or as the old balance.
func TestE2EReadYourWrites(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	var posted []e2eTransfer
	var stale []string
	for i := range 30 {
		tr := l.post(t, map[string]any{"id": fmt.Sprintf("ryw-%02d", i), "from": "world", "to": "alice", "amount": "1.00"})
		posted = append(posted, tr)
		r := l.do(t, http.MethodGet, "/v1/transfers/"+tr.ID, nil)
		if r.Status != http.StatusOK {
			stale = append(stale, r.String())
			continue
		}
		if got := e2eJSON[e2eTransfer](t, r, http.StatusOK); got.Status != "posted" || got.Sequence != tr.Sequence {
			stale = append(stale, r.String())
		}
		r = l.do(t, http.MethodGet, "/v1/accounts/alice", nil)
		if got := e2eJSON[e2eAccount](t, r, http.StatusOK); got.Balance != tr.Entries[1].Balance {
			stale = append(stale, fmt.Sprintf("after %s (alice at %s): %s", tr.ID, tr.Entries[1].Balance, r))
		}
	}
	if len(stale) > 0 {
		t.Errorf("%d of 60 reads right after a 201 did not see the posting; first: %s", len(stale), stale[0])
	}
	j := l.journal(t)
	for _, tr := range posted {
		j.checkPosted(t, tr)
	}
	l.checkZeroSum(t, "USD", "alice", "bob")
}
