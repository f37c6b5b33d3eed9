package audit_test

import (
	"testing"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
)

// An account's metadata changes pass the audit and move nothing; one
// that names an account never opened (a forged line) is inconsistent.
func TestAccountMetadataUpdated(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	l.Batch(domain.Command{Metadata: &domain.MetadataUpdate{Account: "alice", Metadata: map[string]string{"tier": "gold"}}})
	rep := run(t, l.source(), audit.Options{}).Report
	mustOK(t, rep)
	if rep.Events != 16 || rep.Postings != 7 {
		t.Fatalf("report: %d events, %d postings", rep.Events, rep.Postings)
	}

	lines := l.export(1, 0)
	ev := &domain.Event{Seq: 17, Type: domain.EventAccountMetadataUpdated, Version: 1, Command: domain.CommandRef{Seq: rep.LastCommand + 1},
		Time: minute(9), Metadata: &domain.MetadataUpdate{Account: "ghost"}}
	forged, _, err := domain.AppendEvent(nil, ev, l.W.Last)
	if err != nil {
		t.Fatal(err)
	}
	rep = run(t, &audit.FileSource{Path: writeLines(t, append(lines, forged))}, audit.Options{}).Report
	if f, ok := rep.First(audit.CheckConsistent); rep.OK || !ok || f.Seq != 17 || f.Account != "ghost" {
		t.Fatalf("a metadata change of an account never opened: %v", rep.Findings)
	}
}
