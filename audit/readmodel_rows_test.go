package audit_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/projections"
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
	built := filepath.Join(t.TempDir(), "built")
	replay(t, l, built, audit.ReplayOptions{})
	mustOK(t, auditWith(t, l, built))

	nanos := func(at time.Time) int64 { return at.UnixNano() }
	rejected := func(seq uint64, id, amount string, at time.Time) func(*projections.Editor) error {
		return func(e *projections.Editor) error {
			return e.PutTransfer(projections.TransferEdit{Seq: seq, Status: projections.StatusRejected, ID: id, From: "carol",
				To: "alice", Amount: amount, AtUnixNanos: nanos(at), Code: "insufficient_funds", Detail: "no"})
		}
	}
	clockAt := func(seq uint64, fn func(projections.ClockRow) (projections.ClockRow, bool)) func(*projections.Editor) error {
		return func(e *projections.Editor) error { return e.UpdateClock(seq, fn) }
	}
	putClock := func(at time.Time, seq uint64) func(*projections.Editor) error {
		return func(e *projections.Editor) error {
			return e.PutClock(projections.ClockRow{UnixNanos: nanos(at), Seq: seq})
		}
	}
	cases := []divergence{
		{"rejection amount", transferEdit("t8", func(r *projections.TransferEdit) { r.Amount = "2" }), 19, "bob",
			`rejected transfer t8: amount "2", the journal's "500.00"`},
		{"rejection code", transferEdit("t8", func(r *projections.TransferEdit) { r.Code = "unknown_account" }), 19, "bob",
			`code "unknown_account", the journal's "insufficient_funds"`},
		{"rejection metadata", transferEdit("t8", func(r *projections.TransferEdit) { r.Metadata = map[string]string{"invoice": "9"} }), 19, "bob",
			"metadata map[invoice:9], the journal's map[invoice:8]"},
		{"rejection time", transferEdit("t8", func(r *projections.TransferEdit) { r.AtUnixNanos = nanos(minute(8)) }), 19, "bob",
			"time 2026-03-01T00:08:00Z, the journal's 2026-03-01T00:09:00Z"},
		{"rejection lost", func(e *projections.Editor) error { return e.DeleteTransfer("t8") }, 19, "",
			"lacks the rejection of transfer t8 at sequence 19"},
		{"rejection not moved", transferEdit("t4", func(r *projections.TransferEdit) {
			r.Seq, r.AtUnixNanos, r.Hash = 13, nanos(minute(4)), l.HashAt(13) // the row of the rejection at 13, as it was
		}), 13, "dave",
			"keeps the rejection of transfer t4 at sequence 13, which the rejection at 16 replaces"},
		{"rejection invented", rejected(12, "x3", "500", minute(4)), 12, "carol",
			`rejected transfer t3: id "x3", the journal's "t3"`},
		{"rejection after the checkpoint", rejected(20, "x20", "1", minute(9)), 20, "carol",
			"transfer x20 rejected at sequence 20, where the journal has no rejection"},
		{"clock sequence", clockAt(10, func(c projections.ClockRow) (projections.ClockRow, bool) { c.Seq = 11; return c, true }), 10, "",
			"clock has time 2026-03-01T00:04:00Z at sequence 11, the journal reaches it at 10"},
		{"clock row lost", clockAt(7, func(c projections.ClockRow) (projections.ClockRow, bool) { return c, false }), 7, "",
			"clock lacks time 2026-03-01T00:03:00Z, which the journal reaches at sequence 7"},
		{"clock row invented", putClock(minute(3).Add(30*time.Second), 8), 8, "",
			"clock has time 2026-03-01T00:03:30Z at sequence 8, a time the journal does not reach there"},
		{"clock not clamped", putClock(minute(7).Add(time.Second), 17), 17, "",
			"clock has time 2026-03-01T00:07:01Z at sequence 17, a time the journal does not reach there"},
	}
	checkDivergences(t, l, built, cases)
}
