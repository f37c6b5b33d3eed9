package audit_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
)

// seedRejectionsAndClock extends the scenario (seq 1-15) with what the
// read model's rejected rows and clock must follow:
//
//	seq 16  (7) t4 dave->alice rejected again: its row moves from 13 to 16
//	seq 17  (minute 5, earlier than minute 7) t7 carol->alice 1000 rejected,
//	        with metadata: the clock is clamped, no row
//	seq 18  (8) t7 carol->alice 1 posted: its rejected row becomes the posting
//	seq 19  (9) t8 bob->alice 500 rejected, with metadata
func seedRejectionsAndClock(l *ledger) {
	l.T.Helper()
	seedScenario(l)
	expect := func(ds []domain.Decision, want domain.Outcome) {
		l.T.Helper()
		if ds[0].Outcome != want {
			l.T.Fatalf("scenario: %+v, want %v", ds[0], want)
		}
	}
	expect(l.Batch(journaltest.Transfer("t4", "dave", "alice", "1")), domain.Rejected)
	ds, _ := l.W.Batch(l.T, minute(5), domain.Command{Transfer: &domain.Transfer{ID: "t7", From: "carol", To: "alice",
		Amount: "1000", Metadata: map[string]string{"invoice": "7"}}})
	expect(ds, domain.Rejected)
	expect(l.Batch(journaltest.Transfer("t7", "carol", "alice", "1")), domain.Posted)
	expect(l.Batch(domain.Command{Transfer: &domain.Transfer{ID: "t8", From: "bob", To: "alice", Amount: "500",
		Reference: "r8", Metadata: map[string]string{"invoice": "8"}}}), domain.Rejected)
	if l.W.State.Seq() != 19 {
		l.T.Fatalf("scenario ends at %d, want 19", l.W.State.Seq())
	}
}

// TestReadModelRejectionsAndClock: the read model's rejected transfers
// and clock, as a replay builds them, agree with the journal; and one
// altered rejected row or clock row is found, at its sequence.
func TestReadModelRejectionsAndClock(t *testing.T) {
	l := newLedger(t)
	seedRejectionsAndClock(l)
	built := filepath.Join(t.TempDir(), "built.db")
	replay(t, l, built, audit.ReplayOptions{})
	mustOK(t, auditWith(t, l, built))

	nanos := func(at time.Time) int64 { return at.UnixNano() }
	cases := []divergence{
		{"rejection amount", `UPDATE transfers SET amount = '2' WHERE id = 't8'`, 19, "bob",
			`rejected transfer t8: amount "2", the journal's "500.00"`},
		{"rejection code", `UPDATE transfers SET code = 'unknown_account' WHERE id = 't8'`, 19, "bob",
			`code "unknown_account", the journal's "insufficient_funds"`},
		{"rejection metadata", `UPDATE transfers SET metadata = '{"invoice":"9"}' WHERE id = 't8'`, 19, "bob",
			"metadata map[invoice:9], the journal's map[invoice:8]"},
		{"rejection time", fmt.Sprintf(`UPDATE transfers SET at = %d WHERE id = 't8'`, nanos(minute(8))), 19, "bob",
			"time 2026-03-01T00:08:00Z, the journal's 2026-03-01T00:09:00Z"},
		{"rejection lost", `DELETE FROM transfers WHERE id = 't8'`, 19, "",
			"lacks the rejection of transfer t8 at sequence 19"},
		{"rejection not moved", fmt.Sprintf(`UPDATE transfers SET seq = 13, at = %d WHERE id = 't4'`, nanos(minute(4))), 13, "dave",
			"keeps the rejection of transfer t4 at sequence 13, which the rejection at 16 replaces"},
		{"rejection invented", fmt.Sprintf(`INSERT INTO transfers (seq, id, status, from_account, to_account, amount, asset,
			reference, metadata, at, code, detail) VALUES (12, 'x3', 'rejected', 'carol', 'alice', '500', '', '', NULL, %d,
			'insufficient_funds', 'no')`, nanos(minute(4))), 12, "carol",
			`rejected transfer t3: id "x3", the journal's "t3"`},
		{"rejection after the checkpoint", fmt.Sprintf(`INSERT INTO transfers (seq, id, status, from_account, to_account,
			amount, asset, reference, metadata, at, code, detail) VALUES (20, 'x20', 'rejected', 'carol', 'alice', '1', '', '',
			NULL, %d, 'insufficient_funds', 'no')`, nanos(minute(9))), 20, "carol",
			"transfer x20 rejected at sequence 20, where the journal has no rejection"},
		{"clock sequence", `UPDATE clock SET seq = 11 WHERE seq = 10`, 10, "",
			"clock has time 2026-03-01T00:04:00Z at sequence 11, the journal reaches it at 10"},
		{"clock row lost", `DELETE FROM clock WHERE seq = 7`, 7, "",
			"clock lacks time 2026-03-01T00:03:00Z, which the journal reaches at sequence 7"},
		{"clock row invented", fmt.Sprintf(`INSERT INTO clock (at, seq) VALUES (%d, 8)`, nanos(minute(3).Add(30*time.Second))), 8, "",
			"clock has time 2026-03-01T00:03:30Z at sequence 8, a time the journal does not reach there"},
		{"clock not clamped", fmt.Sprintf(`INSERT INTO clock (at, seq) VALUES (%d, 17)`, nanos(minute(7).Add(time.Second))), 17, "",
			"clock has time 2026-03-01T00:07:01Z at sequence 17, a time the journal does not reach there"},
	}
	checkDivergences(t, l, built, cases)
}
