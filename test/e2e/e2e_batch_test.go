package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

type e2eBatchResult struct {
	Status   int          `json:"status"`
	Replayed bool         `json:"replayed"`
	Transfer *e2eTransfer `json:"transfer"`
	Problem  *e2eProblem  `json:"problem"`
}

type e2eBatchResponse struct {
	Results []e2eBatchResult `json:"results"`
}

func (l *e2eLedger) batch(t *testing.T, atomic bool, transfers ...map[string]any) []e2eBatchResult {
	t.Helper()
	r := l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": transfers, "atomic": atomic})
	out := e2eJSON[e2eBatchResponse](t, r, http.StatusOK)
	if len(out.Results) != len(transfers) {
		t.Fatalf("%d results for %d transfers: %s", len(out.Results), len(transfers), r)
	}
	return out.Results
}

func tr(id, from, to, amount string) map[string]any {
	return map[string]any{"id": id, "from": from, "to": to, "amount": amount}
}

func wantItem(t *testing.T, i int, got e2eBatchResult, status int, code string) {
	t.Helper()
	if got.Status != status {
		t.Fatalf("item %d: status %d, want %d (%+v)", i, got.Status, status, got.Problem)
	}
	if code == "" {
		if got.Transfer == nil || got.Transfer.Status != "posted" {
			t.Fatalf("item %d: no posted transfer: %+v", i, got)
		}
		return
	}
	if got.Problem == nil || got.Problem.Code != code {
		t.Fatalf("item %d: problem %+v, want code %s", i, got.Problem, code)
	}
}

func TestE2EBatch(t *testing.T) {
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "a", "USD")
	l.openAccount(t, "b", "USD")
	l.mint(t, "a", "10.00")

	// Non-atomic: each item on its own, in order.
	res := l.batch(t, false,
		tr("n1", "a", "b", "4.00"),
		tr("n2", "a", "b", "1.001"), // too many decimals
		tr("n3", "a", "b", "7.00"),  // 6.00 left: insufficient
		tr("n4", "a", "b", "6.00"),
		tr("n5", "a", "a", "1.00"), // same account, refused before submission
	)
	wantItem(t, 0, res[0], http.StatusCreated, "")
	wantItem(t, 1, res[1], http.StatusBadRequest, "invalid_amount")
	wantItem(t, 2, res[2], http.StatusUnprocessableEntity, "insufficient_funds")
	wantItem(t, 3, res[3], http.StatusCreated, "")
	wantItem(t, 4, res[4], http.StatusBadRequest, "same_account")
	if res[3].Transfer.Entries[0].Balance != "0.00" {
		t.Fatalf("a after n4: %s", res[3].Transfer.Entries[0].Balance)
	}

	// The same batch again: the posted items replay with their sequences.
	again := l.batch(t, false, tr("n1", "a", "b", "4.00"), tr("n4", "a", "b", "6"))
	for i, want := range []*e2eTransfer{res[0].Transfer, res[3].Transfer} {
		if again[i].Status != http.StatusOK || !again[i].Replayed || again[i].Transfer.Sequence != want.Sequence {
			t.Fatalf("replayed item %d: %+v, want sequence %d", i, again[i], want.Sequence)
		}
	}

	// Atomic: one rejection and nothing moves.
	l.mint(t, "a", "5.00")
	journal := len(l.journal(t))
	res = l.batch(t, true, tr("x1", "a", "b", "3.00"), tr("x2", "a", "b", "3.00"), tr("x3", "b", "a", "1.00"))
	wantItem(t, 0, res[0], http.StatusUnprocessableEntity, "batch_aborted")
	wantItem(t, 1, res[1], http.StatusUnprocessableEntity, "insufficient_funds")
	wantItem(t, 2, res[2], http.StatusUnprocessableEntity, "batch_aborted")
	// The journal says the batch was taken and rolled back, and moves nothing.
	if evs := l.journal(t)[journal:]; len(evs) != 1 || evs[0].Type != domain.EventCommandSkipped ||
		evs[0].Skip.Reason != domain.SkipBatchAborted || evs[0].Skip.Items != 3 ||
		!strings.Contains(evs[0].Skip.Detail, "item 1: insufficient_funds") {
		t.Fatalf("an aborted atomic batch wrote %d events, want one CommandSkipped: %+v", len(evs), evs)
	}
	if bal := l.account(t, "a", "").Balance; bal != "5.00" {
		t.Fatalf("a after the aborted batch: %s, want 5.00", bal)
	}
	// An invalid item aborts it before submission.
	res = l.batch(t, true, tr("x1", "a", "b", "3.00"), tr("x4", "a", "b", "-1"))
	wantItem(t, 0, res[0], http.StatusUnprocessableEntity, "batch_aborted")
	wantItem(t, 1, res[1], http.StatusBadRequest, "invalid_amount")

	// Atomic success: consecutive sequences, all visible.
	res = l.batch(t, true, tr("x1", "a", "b", "3.00"), tr("x2", "a", "b", "2.00"), tr("x3", "b", "a", "1.00"))
	for i := range res {
		wantItem(t, i, res[i], http.StatusCreated, "")
		if i > 0 && res[i].Transfer.Sequence != res[i-1].Transfer.Sequence+1 {
			t.Fatalf("atomic batch sequences %d then %d", res[i-1].Transfer.Sequence, res[i].Transfer.Sequence)
		}
	}
	if bal := l.account(t, "a", "").Balance; bal != "1.00" {
		t.Fatalf("a after the atomic batch: %s, want 1.00", bal)
	}
	j := l.journal(t)
	for _, id := range []string{"n1", "n4", "x1", "x2", "x3"} {
		if n := len(j.postedEvents(id)); n != 1 {
			t.Fatalf("%s posted %d times", id, n)
		}
	}
	l.checkZeroSum(t, "USD", "a", "b")
}

func TestE2EBatchLimits(t *testing.T) {
	l := e2eStart(t)
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": []any{}}), http.StatusBadRequest, "validation_failed", "transfers")
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = tr(fmt.Sprintf("m%d", i), "world", "a", "1")
	}
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": many}), http.StatusBadRequest, "validation_failed", "transfers")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": many[:1], "extra": 1}), http.StatusBadRequest, "validation_failed", "")
}

func TestE2EBatchOfAThousand(t *testing.T) {
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "a", "USD")
	l.openAccount(t, "b", "USD")
	items := make([]map[string]any, 1000)
	for i := range items {
		items[i] = tr(fmt.Sprintf("k%d", i), "world", "a", "0.01")
	}
	for _, atomic := range []bool{false, true} {
		if atomic {
			for i := range items {
				items[i] = tr(fmt.Sprintf("p%d", i), "a", "b", "0.01")
			}
		}
		for i, r := range l.batch(t, atomic, items...) {
			wantItem(t, i, r, http.StatusCreated, "")
		}
	}
	if bal := l.account(t, "b", "").Balance; bal != "10.00" {
		t.Fatalf("b: %s, want 10.00", bal)
	}
	l.checkZeroSum(t, "USD", "a", "b")
}

type e2eBatchPending struct {
	Status  string   `json:"status"`
	IDs     []string `json:"ids"`
	Invalid []struct {
		Index   int        `json:"index"`
		Problem e2eProblem `json:"problem"`
	} `json:"invalid"`
}

// A batch with Prefer: respond-async is answered 202 once stored: the ids
// to follow, and the items refused before storing. Each is then decided
// as it would have been synchronously.
func TestE2EBatchAsync(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.mint(t, "alice", "10.00")
	async := []string{"Prefer", "respond-async"}

	r := l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": []map[string]any{
		tr("ab-1", "alice", "bob", "4.00"), tr("ab-2", "alice", "bob", "four"), tr("ab-3", "alice", "bob", "50.00"),
	}}, async...)
	got := e2eJSON[e2eBatchPending](t, r, http.StatusAccepted)
	if got.Status != "pending" || fmt.Sprint(got.IDs) != "[ab-1 ab-3]" || len(got.Invalid) != 1 ||
		got.Invalid[0].Index != 1 || got.Invalid[0].Problem.Code != "invalid_amount" {
		t.Fatalf("async batch: %s", r)
	}
	if p := l.awaitOutcome(t, "/v1/transfers/ab-1"); p.Status != "posted" || p.Entries[0].Balance != "6.00" {
		t.Errorf("ab-1: %+v", p)
	}
	if p := l.awaitOutcome(t, "/v1/transfers/ab-3"); p.Status != "rejected" || p.Code != "insufficient_funds" {
		t.Errorf("ab-3: %+v", p)
	}
	if r := l.do(t, http.MethodGet, "/v1/transfers/ab-2", nil); r.Status != http.StatusNotFound {
		t.Errorf("the invalid item was stored: %s", r)
	}

	// An atomic batch is answered with its outcome all the same: one that
	// aborts leaves nothing in the journal to read later.
	r = l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"atomic": true, "transfers": []map[string]any{
		tr("aa-1", "alice", "bob", "1.00"), tr("aa-2", "alice", "bob", "100.00"),
	}}, async...)
	res := e2eJSON[e2eBatchResponse](t, r, http.StatusOK).Results
	if len(res) != 2 {
		t.Fatalf("async atomic batch: %s", r)
	}
	wantItem(t, 0, res[0], http.StatusUnprocessableEntity, "batch_aborted")
	wantItem(t, 1, res[1], http.StatusUnprocessableEntity, "insufficient_funds")
	if a := l.account(t, "alice", ""); a.Balance != "6.00" {
		t.Errorf("alice's balance %s, want 6.00", a.Balance)
	}
	l.checkZeroSum(t, "USD", "alice", "bob")
}
