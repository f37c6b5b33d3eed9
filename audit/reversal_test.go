package audit_test

import (
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
)

// seedReversals writes the books scenario, then reverses t1 (alice ->
// bob 25.50) twice: 10.00 (seq 16) and the rest, 15.50 (seq 17). It
// returns the last reversal's event.
func seedReversals(t *testing.T, l *ledger) *domain.Event {
	t.Helper()
	seedScenario(l)
	var t1 domain.Transfer
	for _, ev := range l.Events {
		if ev.Transfer != nil && ev.Transfer.ID == "t1" {
			t1 = ev.Transfer.Transfer
		}
	}
	var last *domain.Event
	for _, rv := range []domain.Reversal{{ID: "r1", Amount: "10", Original: t1}, {ID: "r2", Original: t1}} {
		ds := l.Batch(domain.Command{Reversal: &rv})
		if ds[0].Outcome != domain.Posted {
			t.Fatalf("%s: %+v %v", rv.ID, ds[0], ds[0].Err)
		}
		last = ds[0].Event
	}
	if r := last.Transfer.Reversal; r.Remaining != "0.00" || r.OriginalAmount != "25.50" || last.Seq != 17 {
		t.Fatalf("r2: %+v", last)
	}
	return last
}

// Reversals pass the audit, and a read model replayed from the journal
// (the original's reversals listed) equals the books.
func TestAuditAcceptsReversals(t *testing.T) {
	l := newLedger(t)
	seedReversals(t, l)
	res := run(t, l.source(), audit.Options{})
	mustOK(t, res.Report)
	if res.Report.Events != 17 || res.Report.Postings != 9 {
		t.Fatalf("report: %d events, %d postings", res.Report.Events, res.Report.Postings)
	}
	mustAgreeWithReplayedReadModel(t, l)
}

// A forged reversal chained after the real head is a finding: one of more
// than remains, one whose remainder does not follow, one that names a
// transfer never posted.
func TestAuditReversalTampering(t *testing.T) {
	l := newLedger(t)
	last := seedReversals(t, l)
	lines := l.export(1, 0)
	forge := func(edit func(p *domain.PostedTransfer)) []byte {
		p := *last.Transfer
		rv := *p.Reversal
		p.Reversal = &rv
		p.ID = "r3"
		p.Amount, p.Entries[0].Amount, p.Entries[1].Amount = "1.00", "1.00", "1.00"
		// What r2's accounts would hold after 1.00 more: bob 59.00, alice 90.50.
		p.Entries[0].Balance, p.Entries[1].Balance = "59.00", "90.50"
		edit(&p)
		ev := &domain.Event{Seq: 18, Type: domain.EventTransferPosted, Version: 1, Command: domain.CommandRef{Seq: last.Command.Seq + 1},
			Time: minute(10), Transfer: &p}
		line, _, err := domain.AppendEvent(nil, ev, l.W.Last)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	for _, tc := range []struct {
		name   string
		edit   func(p *domain.PostedTransfer)
		detail string
	}{
		{"more than remains", func(p *domain.PostedTransfer) {}, "more than"},
		{"a remainder that does not follow", func(p *domain.PostedTransfer) { p.Reversal.Remaining = "24.50" }, "more than"},
		{"another original amount", func(p *domain.PostedTransfer) { p.Reversal.OriginalAmount, p.Reversal.Remaining = "99.00", "98.00" }, "original amount"},
		{"a transfer never posted", func(p *domain.PostedTransfer) { p.Reverses = "ghost" }, "no transfer posted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, &audit.FileSource{Path: writeLines(t, append(lines[:len(lines):len(lines)], forge(tc.edit)))}, audit.Options{}).Report
			f, ok := rep.First(audit.CheckConsistent)
			if rep.OK || !ok || f.Seq != 18 || !strings.Contains(f.Detail, tc.detail) {
				t.Fatalf("forged reversal: %v", rep.Findings)
			}
		})
	}
}
