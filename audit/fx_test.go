package audit_test

import (
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/projections"
)

// seedFX writes the books scenario, then the rate USD/JPY 150 (seq 16), a
// conversion of 10.01 USD from alice to kenji at the table's rate (seq
// 17: 1501 JPY, the half yen rounded down) and one of 7 JPY from kenji to
// alice at 0.00666 given by the request (seq 18: 0.04 USD).
func seedFX(t *testing.T, l *ledger) *domain.Event {
	t.Helper()
	seedScenario(l)
	l.Batch(domain.Command{Rate: &domain.RateSet{Base: "USD", Quote: "JPY", Rate: "150"}})
	ds := l.Batch(journaltest.Transfer("x1", "alice", "kenji", "10.01"))
	if ds[0].Outcome != domain.Posted || ds[0].Event.Conversion.ToAmount != "1501" {
		t.Fatalf("x1: %+v", ds[0])
	}
	back := journaltest.Transfer("x2", "kenji", "alice", "7")
	back.Transfer.ExchangeRate = "0.00666"
	ds = l.Batch(back)
	if ds[0].Outcome != domain.Posted || ds[0].Event.Conversion.ToAmount != "0.04" {
		t.Fatalf("x2: %+v", ds[0])
	}
	return ds[0].Event
}

// Conversions pass the audit: four legs, the rounding, every asset
// summing to zero with the FX positions; a read model replayed from the
// journal equals the books.
func TestAuditAcceptsConversions(t *testing.T) {
	l := newLedger(t)
	seedFX(t, l)
	res := run(t, l.source(), audit.Options{})
	mustOK(t, res.Report)
	if res.Report.Events != 18 || res.Report.Postings != 9 {
		t.Fatalf("report: %d events, %d postings", res.Report.Events, res.Report.Postings)
	}
	_, totals := res.Books.Balances()
	want := map[string]audit.AssetTotal{
		"JPY": {Asset: "JPY", Accounts: 1, Total: "2494", Issuer: "-1000", FX: "-1494", Sum: "0"},
		"USD": {Asset: "USD", Scale: 2, Accounts: 3, Total: "134.53", Issuer: "-144.50", FX: "9.97", Sum: "0.00"},
	}
	for _, tot := range totals {
		if tot != want[tot.Asset] {
			t.Errorf("totals %+v, want %+v", tot, want[tot.Asset])
		}
	}
	path := mustAgreeWithReplayedReadModel(t, l)

	// A read model whose conversion credits more than the journal says.
	alter(t, path, transferEdit("x1", func(e *projections.TransferEdit) { e.ToAmount = "1502" }))
	rep := auditWith(t, l, path)
	if f, ok := rep.First(audit.CheckReadModel); rep.OK || !ok || f.Seq != 17 || !strings.Contains(f.Detail, "to_amount") {
		t.Fatalf("a read model with another to_amount: %v", rep.Findings)
	}
}

// A forged conversion chained after the real head is a finding: one that
// credits more than its rate gives, and one that claims the table's rate
// but names another.
func TestAuditConversionTampering(t *testing.T) {
	l := newLedger(t)
	last := seedFX(t, l)
	lines := l.export(1, 0)
	forge := func(edit func(c *domain.ConvertedTransfer)) []byte {
		c := *last.Conversion
		c.ID = "x3"
		// What x2 again would leave: kenji 2487, FX -1487 JPY and 9.93 USD, alice 79.57.
		for i, bal := range [4]string{"2487", "-1487", "9.93", "79.57"} {
			c.Entries[i].Balance = bal
		}
		edit(&c)
		ev := &domain.Event{Seq: 19, Type: domain.EventTransferConverted, Version: 1, Command: domain.CommandRef{Seq: last.Command.Seq + 1},
			Time: minute(10), Conversion: &c}
		line, _, err := domain.AppendEvent(nil, ev, l.W.Last)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	// The forgery unedited is x2 again under a new id, which adds up.
	mustOK(t, run(t, &audit.FileSource{Path: writeLines(t, append(lines[:len(lines):len(lines)], forge(func(*domain.ConvertedTransfer) {})))}, audit.Options{}).Report)
	for _, tc := range []struct {
		name   string
		edit   func(c *domain.ConvertedTransfer)
		detail string
	}{
		{"to_amount above the rate", func(c *domain.ConvertedTransfer) {
			c.ToAmount, c.Entries[2].Amount, c.Entries[3].Amount = "0.05", "0.05", "0.05"
		}, "rounded down"},
		{"a table rate the table never had", func(c *domain.ConvertedTransfer) {
			c.RateFrom, c.ExchangeRate = domain.RateFromTable, "0.007"
		}, "from the table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, &audit.FileSource{Path: writeLines(t, append(lines[:len(lines):len(lines)], forge(tc.edit)))}, audit.Options{}).Report
			f, ok := rep.First(audit.CheckConsistent)
			if rep.OK || !ok || f.Seq != 19 || !strings.Contains(f.Detail, tc.detail) {
				t.Fatalf("forged conversion: %v", rep.Findings)
			}
		})
	}
}
