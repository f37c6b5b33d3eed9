package e2e_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// awaitOutcome polls the Location of a transfer answered 202 until it is
// no longer pending, checking that every poll answers 200 pending or the
// outcome, and returns the outcome.
func (l *e2eLedger) awaitOutcome(t *testing.T, location string) e2eTransfer {
	t.Helper()
	var out e2eTransfer
	e2eEventually(t, e2eOutcomeWait, location+" to be decided", func() (bool, string) {
		r := l.do(t, http.MethodGet, location, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("polling a transfer answered 202: %s", r)
		}
		out = e2eJSON[e2eTransfer](t, r, http.StatusOK)
		switch out.Status {
		case "pending":
			return false, r.String()
		case "posted", "rejected":
			return true, ""
		}
		t.Fatalf("transfer status %q: %s", out.Status, r)
		return false, ""
	})
	return out
}

// TestE2EAsync submits transfers with Prefer: respond-async and follows
// their Location to the outcome.
func TestE2EAsync(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	mint := l.mint(t, "alice", "10.00")

	accepted := func(t *testing.T, body string, header ...string) string {
		t.Helper()
		r := l.do(t, http.MethodPost, "/v1/transfers", body, append([]string{"Prefer", "respond-async"}, header...)...)
		got := e2eJSON[map[string]any](t, r, http.StatusAccepted)
		loc := r.Header.Get("Location")
		if loc != "/v1/transfers/"+fmt.Sprint(got["id"]) || got["status"] != "pending" {
			t.Fatalf("202 with Location %q and body %s", loc, r.Body)
		}
		return loc
	}

	loc := accepted(t, `{"id":"async-1","from":"alice","to":"bob","amount":"3.00","reference":"later"}`)
	if loc != "/v1/transfers/async-1" {
		t.Errorf("Location %q, want /v1/transfers/async-1", loc)
	}
	posted := l.awaitOutcome(t, loc)
	want := []e2eEntry{{"alice", "debit", "3.00", "7.00"}, {"bob", "credit", "3.00", "3.00"}}
	if posted.Status != "posted" || posted.ID != "async-1" || posted.Amount != "3.00" || posted.Asset != "USD" ||
		posted.Reference != "later" || fmt.Sprint(posted.Entries) != fmt.Sprint(want) {
		t.Errorf("async-1: %+v", posted)
	}

	keyed := l.awaitOutcome(t, accepted(t, `{"from":"alice","to":"bob","amount":"1.00"}`, "Idempotency-Key", "async-key"))
	if keyed.ID != "async-key" || keyed.Status != "posted" || keyed.Entries[0].Balance != "6.00" {
		t.Errorf("async with Idempotency-Key: %+v", keyed)
	}

	generated := l.awaitOutcome(t, accepted(t, `{"from":"bob","to":"alice","amount":"0.50"}`))
	if generated.ID == "" || generated.Status != "posted" {
		t.Errorf("async with a generated id: %+v", generated)
	}

	rejected := l.awaitOutcome(t, accepted(t, `{"id":"async-poor","from":"alice","to":"bob","amount":"50.00"}`))
	if rejected.Status != "rejected" || rejected.Code != "insufficient_funds" || rejected.Detail == "" {
		t.Errorf("async-poor: %+v", rejected)
	}

	// A synchronous retry of a posted asynchronous transfer is a replay.
	r := l.do(t, http.MethodPost, "/v1/transfers", `{"id":"async-1","from":"alice","to":"bob","amount":"3.00","reference":"later"}`)
	if again := e2eJSON[e2eTransfer](t, r, http.StatusOK); again.Sequence != posted.Sequence || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("sync retry of async-1: %s", r)
	}

	if a := l.account(t, "alice", ""); a.Balance != "6.50" {
		t.Errorf("alice's balance %s, want 6.50", a.Balance)
	}
	j := l.journal(t)
	for _, tr := range []e2eTransfer{mint, posted, keyed, generated} {
		j.checkPosted(t, tr)
	}
	j.checkRejected(t, "async-poor", "insufficient_funds")
	l.checkZeroSum(t, "USD", "alice", "bob")
}

// TestE2EConcurrency races transfers against one balance and one id.
func TestE2EConcurrency(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	accounts := []string{"spender", "sink", "payer", "payee", "poor", "rich"}
	for _, id := range accounts {
		l.openAccount(t, id, "USD")
	}
	var postedAll []e2eTransfer

	t.Run("overspend", func(t *testing.T) {
		postedAll = append(postedAll, l.mint(t, "spender", "50.00"))
		const n = 100
		resps := make([]e2eResp, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resps[i], errs[i] = l.send(http.MethodPost, "/v1/transfers",
					fmt.Sprintf(`{"id":"spend-%03d","from":"spender","to":"sink","amount":"1.00"}`, i))
			})
		}
		wg.Wait()
		created, refused := 0, 0
		after := map[string]bool{}
		for i, r := range resps {
			if errs[i] != nil {
				t.Fatalf("spend-%03d: %v", i, errs[i])
			}
			switch r.Status {
			case http.StatusCreated:
				created++
				tr := e2eJSON[e2eTransfer](t, r, http.StatusCreated)
				after[tr.Entries[0].Balance] = true
				postedAll = append(postedAll, tr)
			case http.StatusUnprocessableEntity:
				refused++
				e2eCheckProblem(t, r, http.StatusUnprocessableEntity, "insufficient_funds", "")
			default:
				t.Errorf("spend-%03d: %s", i, r)
			}
		}
		if created != 50 || refused != 50 {
			t.Errorf("%d posted and %d refused, want 50 and 50", created, refused)
		}
		// Each posting left a different balance: 49.00 down to 0.00.
		for cents := 0; cents < 50; cents++ {
			if b := fmt.Sprintf("%d.00", cents); !after[b] {
				t.Errorf("no posting left spender at %s", b)
			}
		}
		if a := l.account(t, "spender", ""); a.Balance != "0.00" {
			t.Errorf("spender's balance %s, want 0.00", a.Balance)
		}
		if a := l.account(t, "sink", ""); a.Balance != "50.00" {
			t.Errorf("sink's balance %s, want 50.00", a.Balance)
		}
		j := l.journal(t)
		rejected := 0
		for i := range n {
			rejected += len(j.rejectedEvents(fmt.Sprintf("spend-%03d", i)))
		}
		if rejected != 50 {
			t.Errorf("journal has %d TransferRejected events for the overspend, want 50", rejected)
		}
	})

	t.Run("same id at once", func(t *testing.T) {
		postedAll = append(postedAll, l.mint(t, "payer", "20.00"))
		const n = 20
		body := `{"id":"same-1","from":"payer","to":"payee","amount":"5.00","reference":"once"}`
		resps := make([]e2eResp, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { resps[i], errs[i] = l.send(http.MethodPost, "/v1/transfers", body) })
		}
		wg.Wait()
		statuses := map[int]int{}
		var first *e2eTransfer
		for i, r := range resps {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			statuses[r.Status]++
			var tr e2eTransfer
			switch {
			case r.Status == http.StatusCreated:
				tr = e2eJSON[e2eTransfer](t, r, http.StatusCreated)
			case r.Status == http.StatusOK && r.Header.Get("Idempotent-Replayed") == "true":
				tr = e2eJSON[e2eTransfer](t, r, http.StatusOK)
			default:
				t.Errorf("request %d: %s (Idempotent-Replayed %q), want 201 or a 200 replay",
					i, r, r.Header.Get("Idempotent-Replayed"))
				continue
			}
			if first == nil {
				first = &tr
				continue
			}
			if tr.ID != "same-1" || tr.Sequence != first.Sequence || fmt.Sprint(tr.Entries) != fmt.Sprint(first.Entries) {
				t.Errorf("request %d answered %+v, another %+v", i, tr, *first)
			}
		}
		if statuses[http.StatusCreated] > 1 {
			t.Errorf("%d requests answered 201 for one transfer id", statuses[http.StatusCreated])
		}
		t.Logf("statuses of %d identical requests: %v", n, statuses)
		if first != nil {
			postedAll = append(postedAll, *first)
			if fmt.Sprint(first.Entries) != fmt.Sprint([]e2eEntry{{"payer", "debit", "5.00", "15.00"}, {"payee", "credit", "5.00", "5.00"}}) {
				t.Errorf("same-1 entries %+v", first.Entries)
			}
		}
		if a := l.account(t, "payer", ""); a.Balance != "15.00" {
			t.Errorf("payer's balance %s, want 15.00: money moved more than once", a.Balance)
		}
	})

	t.Run("rejected id retried after funding", func(t *testing.T) {
		body := `{"id":"retry-1","from":"poor","to":"rich","amount":"5.00"}`
		p := e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", body), http.StatusUnprocessableEntity, "insufficient_funds", "")
		if want := "insufficient balance: balance was 0.00 USD, at least 5.00 USD is required"; p.Detail != want {
			t.Errorf("detail %q, want %q", p.Detail, want)
		}
		l.settle(t)
		if got := e2eJSON[e2eTransfer](t, l.do(t, http.MethodGet, "/v1/transfers/retry-1", nil), http.StatusOK); got.Status != "rejected" || got.Code != "insufficient_funds" {
			t.Errorf("GET retry-1 after the refusal: %+v", got)
		}
		postedAll = append(postedAll, l.mint(t, "poor", "5.00"))
		r := l.do(t, http.MethodPost, "/v1/transfers", body)
		if h := r.Header.Get("Idempotent-Replayed"); h == "true" {
			t.Errorf("the retry of a rejected id says Idempotent-Replayed")
		}
		retried := e2eJSON[e2eTransfer](t, r, http.StatusCreated)
		postedAll = append(postedAll, retried)
		l.settle(t)
		if got := e2eJSON[e2eTransfer](t, l.do(t, http.MethodGet, "/v1/transfers/retry-1", nil), http.StatusOK); got.Status != "posted" || got.Sequence != retried.Sequence {
			t.Errorf("GET retry-1 after posting: %+v", got)
		}
		r = l.do(t, http.MethodPost, "/v1/transfers", body)
		if again := e2eJSON[e2eTransfer](t, r, http.StatusOK); again.Sequence != retried.Sequence || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("second retry: %s", r)
		}
		if a := l.account(t, "rich", ""); a.Balance != "5.00" {
			t.Errorf("rich's balance %s, want 5.00", a.Balance)
		}
		l.journal(t).checkRejected(t, "retry-1", "insufficient_funds")
	})

	j := l.journal(t)
	for _, tr := range postedAll {
		j.checkPosted(t, tr)
	}
	if n := len(j.postedEvents("same-1")); n != 1 {
		t.Errorf("same-1 posted %d times", n)
	}
	l.checkZeroSum(t, "USD", accounts...)
}
