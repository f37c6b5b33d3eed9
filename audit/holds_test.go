package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
)

func pendingTransfer(id, from, to, amount string) domain.Command {
	c := journaltest.Transfer(id, from, to, amount)
	c.Transfer.Pending = true
	return c
}

func holdAction(id, action, amount string) domain.Command {
	return domain.Command{Hold: &domain.HoldAction{ID: id, Action: action, Amount: amount}}
}

// seedHolds writes the books scenario, then two holds refused for funds,
// the same ids held again: a hold of 20.00 from alice to bob posted for
// 15.00, a hold of 5.00 voided; and a hold of 10.00 left pending; it
// returns the last hold's event.
func seedHolds(t *testing.T, l *ledger) *domain.Event {
	t.Helper()
	seedScenario(l)
	for _, c := range []struct {
		cmd  domain.Command
		want domain.Outcome
	}{
		{pendingTransfer("h1", "alice", "bob", "1000000"), domain.Rejected}, // its id stays free
		{pendingTransfer("h2", "alice", "bob", "1000000"), domain.Rejected},
		{pendingTransfer("h1", "alice", "bob", "20"), domain.Posted},
		{holdAction("h1", domain.HoldPost, "15"), domain.Posted},
		{pendingTransfer("h2", "alice", "bob", "5"), domain.Posted},
		{holdAction("h2", domain.HoldVoid, ""), domain.Updated},
	} {
		if ds := l.Batch(c.cmd); ds[0].Outcome != c.want {
			t.Fatalf("%+v: %+v", c.cmd, ds[0])
		}
	}
	ds := l.Batch(pendingTransfer("h3", "alice", "bob", "10"))
	if ds[0].Outcome != domain.Posted {
		t.Fatalf("h3: %+v", ds[0])
	}
	return ds[0].Event
}

// Holds pass the audit: the hold posted in part moves what was posted,
// the voided one nothing; a read model replayed from the journal equals
// the books.
func TestAuditAcceptsHolds(t *testing.T) {
	l := newLedger(t)
	seedHolds(t, l)
	res := run(t, l.source(), audit.Options{})
	mustOK(t, res.Report)
	if res.Report.Postings != 8 {
		t.Fatalf("report: %d postings, want the scenario's 7 and the hold posted", res.Report.Postings)
	}
	mustAgreeWithReplayedReadModel(t, l)
}

// A forged settlement chained after the real head is a finding: a post
// above its hold, a hold settled twice, an expiry before its expires_at.
func TestAuditHoldTampering(t *testing.T) {
	l := newLedger(t)
	last := seedHolds(t, l)
	lines := l.export(1, 0)
	h := last.Hold
	forge := func(ev *domain.Event) []byte {
		ev.Seq, ev.Version, ev.Command, ev.Time = last.Seq+1, 1, last.Command, minute(30)
		line, _, err := domain.AppendEvent(nil, ev, l.W.Last)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	posting := func(id, held, amount string) *domain.Event {
		return &domain.Event{Type: domain.EventHoldPosted, HoldPost: &domain.HoldPosting{ID: id, From: h.From, To: h.To, Asset: h.Asset,
			Held: held, Amount: amount, Entries: [2]domain.Entry{{Account: h.From, Type: domain.Debit, Amount: amount, Balance: "0.00"},
				{Account: h.To, Type: domain.Credit, Amount: amount, Balance: "0.00"}}}}
	}
	for _, tc := range []struct {
		name   string
		ev     *domain.Event
		check  audit.Check
		detail string
	}{
		{"a post above its hold", posting("h3", "10.00", "12.00"), audit.CheckConsistent, "but it holds 10.00"},
		{"a post stating another hold", posting("h3", "12.00", "12.00"), audit.CheckConsistent, "but it holds 10.00"},
		{"a hold posted twice", posting("h1", "20.00", "1.00"), audit.CheckUnique, "it was settled at sequence"},
		{"an expiry of a hold that never expires", &domain.Event{Type: domain.EventHoldVoided, HoldVoid: &domain.HoldVoiding{
			ID: "h3", From: h.From, To: h.To, Asset: h.Asset, Amount: "10.00", Reason: domain.VoidExpired,
			ExpiresAt: minute(40).Format(time.RFC3339Nano)}}, audit.CheckConsistent, "not after its expires_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, &audit.FileSource{Path: writeLines(t, append(lines[:len(lines):len(lines)], forge(tc.ev)))}, audit.Options{}).Report
			f, ok := rep.First(tc.check)
			if rep.OK || !ok || f.Seq != last.Seq+1 || !strings.Contains(f.Detail, tc.detail) {
				t.Fatalf("%s: %v", tc.name, rep.Findings)
			}
		})
	}
}
