package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
)

// TestE2EJournalLocate finds the stream position of the record holding
// each ledger sequence of a journal whose records hold runs of events (a
// batch of ten transfers is one record), checked against the records as
// JetStream stores them; a sequence the journal does not hold is 404
// sequence_not_found, a malformed one 400, and the route is an admin's.
func TestE2EJournalLocate(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.seedPayments(t, 0) // seq 1-4, a record each
	var items []map[string]any
	for i := range 10 {
		items = append(items, tr(fmt.Sprintf("b%d", i), "alice", "bob", "1.00"))
	}
	l.batch(t, false, items...) // seq 5-14, one record
	l.pay(t, "p", 1)            // seq 15
	stream, err := l.node.JS.Stream(context.Background(), l.node.Names.JournalStream)
	if err != nil {
		t.Fatal(err)
	}
	positions := map[uint64]bool{}
	for seq := uint64(1); seq <= 15; seq++ {
		r := l.do(t, http.MethodGet, "/v1/journal/locate?seq="+strconv.FormatUint(seq, 10), nil)
		oaCheckE2E(t, "GET /v1/journal/locate", r)
		loc := e2eJSON[journalio.Location](t, r, http.StatusOK)
		positions[loc.Position] = true
		msg, err := stream.GetMsg(context.Background(), loc.Position)
		if err != nil {
			t.Fatalf("seq %d: record %d: %v", seq, loc.Position, err)
		}
		lines, err := domain.SplitRecord(msg.Data)
		if err != nil {
			t.Fatal(err)
		}
		first, _ := domain.DecodeEvent(lines[0])
		last, _ := domain.DecodeEvent(lines[len(lines)-1])
		if loc.Seq != seq || first.Seq > seq || last.Seq < seq || loc.FirstSeq != first.Seq || loc.LastSeq != last.Seq ||
			loc.Stream != "JOURNAL_default" || loc.Subject != msg.Subject || loc.Type != string(first.Type) {
			t.Fatalf("seq %d: %s; the record at %d holds %d-%d on %s", seq, r, loc.Position, first.Seq, last.Seq, msg.Subject)
		}
	}
	if len(positions) != 6 {
		t.Fatalf("15 sequences in %d records, want 6 (4 + one batch + 1)", len(positions))
	}
	p := e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/journal/locate?seq=16", nil), http.StatusNotFound, "sequence_not_found", "")
	if p.Detail != "ledger sequence 16 is not in the journal, which ends at 15" {
		t.Errorf("detail %q", p.Detail)
	}
	for _, q := range []string{"", "?seq=0", "?seq=x", "?seq=-1", "?seq=1&seq=2", "?seq=18446744073709551616"} {
		e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/journal/locate"+q, nil), http.StatusBadRequest, "validation_failed", "seq")
	}
	user := l.as(l.tokenFor(t, "alice", time.Hour, userScopes...))
	e2eCheckProblem(t, user.do(t, http.MethodGet, "/v1/journal/locate?seq=1", nil), http.StatusForbidden, "forbidden", "")
}
