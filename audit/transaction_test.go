package audit_test

import (
	"testing"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
)

// seedTransactions writes the books scenario, then a transaction of two
// legs (seq 16: alice -> bob 5.00, bob -> carol 65.00, which spends what
// the first credited) and one refused at its second leg (seq 17). It
// returns the posted transaction's event.
func seedTransactions(t *testing.T, l *ledger) *domain.Event {
	t.Helper()
	seedScenario(l)
	ds := l.Batch(domain.Command{Transaction: &domain.Transaction{ID: "tx1", Reference: "split",
		Legs: []domain.Leg{{From: "alice", To: "bob", Amount: "5"}, {From: "bob", To: "carol", Amount: "65"}}}})
	if ds[0].Outcome != domain.Posted {
		t.Fatalf("tx1: %+v %v", ds[0], ds[0].Err)
	}
	posted := ds[0].Event
	ds = l.Batch(domain.Command{Transaction: &domain.Transaction{ID: "tx2",
		Legs: []domain.Leg{{From: "alice", To: "bob", Amount: "1"}, {From: "carol", To: "bob", Amount: "1000"}}}})
	if ds[0].Outcome != domain.Rejected || ds[0].Event == nil {
		t.Fatalf("tx2: %+v", ds[0])
	}
	return posted
}

// Transactions pass the audit, and a read model replayed from the journal
// (the legs' entries in the accounts' histories) equals the books.
func TestAuditAcceptsTransactions(t *testing.T) {
	l := newLedger(t)
	seedTransactions(t, l)
	res := run(t, l.source(), audit.Options{})
	mustOK(t, res.Report)
	if res.Report.Events != 17 || res.Report.Postings != 9 {
		t.Fatalf("report: %d events, %d postings", res.Report.Events, res.Report.Postings)
	}
	mustAgreeWithReplayedReadModel(t, l)
}

// A forged transaction chained after the real head is a finding: one
// whose leg states another balance, one whose leg takes an account below
// its limit, one that posts the id again.
func TestAuditTransactionTampering(t *testing.T) {
	l := newLedger(t)
	tx1 := seedTransactions(t, l)
	lines := l.export(1, 0)
	forge := func(edit func(p *domain.PostedTransaction)) []byte {
		p := *tx1.Transaction
		p.ID = "tx3"
		p.Legs = []domain.PostedLeg{{Leg: domain.Leg{From: "carol", To: "alice", Amount: "1.00", Asset: "USD"}}}
		// carol 60.00 after tx1, alice 84.50.
		p.Legs[0].Entries = [2]domain.Entry{{Account: "carol", Type: domain.Debit, Amount: "1.00", Balance: "59.00"},
			{Account: "alice", Type: domain.Credit, Amount: "1.00", Balance: "85.50"}}
		edit(&p)
		ev := &domain.Event{Seq: 18, Type: domain.EventTransactionPosted, Version: 1, Command: domain.CommandRef{Seq: l.W.State.LastCommand().Seq + 1},
			Time: minute(10), Transaction: &p}
		line, _, err := domain.AppendEvent(nil, ev, l.W.Last)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	// The forgery unedited adds up.
	mustOK(t, run(t, &audit.FileSource{Path: writeLines(t, append(lines[:len(lines):len(lines)], forge(func(*domain.PostedTransaction) {})))}, audit.Options{}).Report)
	for _, tc := range []struct {
		name  string
		edit  func(p *domain.PostedTransaction)
		check audit.Check
	}{
		{"a balance that does not follow", func(p *domain.PostedTransaction) { p.Legs[0].Entries[1].Balance = "86.50" }, audit.CheckBalance},
		{"below the limit", func(p *domain.PostedTransaction) {
			p.Legs[0].Amount, p.Legs[0].Entries[0].Amount, p.Legs[0].Entries[1].Amount = "71.00", "71.00", "71.00"
			p.Legs[0].Entries[0].Balance, p.Legs[0].Entries[1].Balance = "-11.00", "155.50"
		}, audit.CheckLimit},
		{"the id again", func(p *domain.PostedTransaction) { p.ID = "tx1" }, audit.CheckUnique},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, &audit.FileSource{Path: writeLines(t, append(lines[:len(lines):len(lines)], forge(tc.edit)))}, audit.Options{}).Report
			f, ok := rep.First(tc.check)
			if rep.OK || !ok || f.Seq != 18 {
				t.Fatalf("forged transaction: %v", rep.Findings)
			}
		})
	}
}
