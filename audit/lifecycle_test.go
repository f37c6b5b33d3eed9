package audit_test

import (
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
)

func lifecycle(action, account, frozen, limit string) domain.Command {
	return domain.Command{Lifecycle: &domain.LifecycleRequest{Action: action,
		AccountChange: domain.AccountChange{Account: account, Frozen: frozen, OverdraftLimit: limit}}}
}

// seedLifecycle writes the books scenario (alice 89.50, bob 60.00, carol
// -5.00 of a 10.00 limit), then carol's limit raised to 20 (seq 16), bob
// frozen for debits (17), a debit of bob refused (18), a credit of bob
// posted (19: alice 88.50, bob 61.00), bob unfrozen (20), an account
// opened (21) and closed at zero (22), and alice frozen for debits (23).
func seedLifecycle(t *testing.T, l *ledger) *domain.Event {
	t.Helper()
	seedScenario(l)
	ds := l.Batch(lifecycle(domain.ActionLimit, "carol", "", "20"),
		lifecycle(domain.ActionFreeze, "bob", domain.FrozenDebits, ""),
		journaltest.Transfer("z1", "bob", "alice", "1"),
		journaltest.Transfer("z2", "alice", "bob", "1"),
		lifecycle(domain.ActionUnfreeze, "bob", "", ""),
		domain.Command{Account: &domain.Account{ID: "empty", Asset: "USD"}},
		lifecycle(domain.ActionClose, "empty", "", ""),
		lifecycle(domain.ActionFreeze, "alice", domain.FrozenDebits, ""))
	for i, want := range []domain.Outcome{domain.Updated, domain.Updated, domain.Rejected, domain.Posted, domain.Updated, domain.Created, domain.Updated, domain.Updated} {
		if ds[i].Outcome != want {
			t.Fatalf("command %d: %+v, want outcome %d", i, ds[i], want)
		}
	}
	if ds[2].Err.Code() != domain.CodeAccountFrozen {
		t.Fatalf("z1: %v", ds[2].Err)
	}
	return ds[len(ds)-1].Event
}

// The lifecycle's events pass the audit, and a read model replayed from
// the journal (the new limit included) equals the books.
func TestAuditAcceptsLifecycle(t *testing.T) {
	l := newLedger(t)
	seedLifecycle(t, l)
	res := run(t, l.source(), audit.Options{})
	mustOK(t, res.Report)
	if res.Report.Events != 23 {
		t.Fatalf("report: %d events", res.Report.Events)
	}
	mustAgreeWithReplayedReadModel(t, l)
}

// Events forged after the real head that break the lifecycle are limit
// findings: a debit of a frozen account, a close with a balance, a limit
// lowered below the balance.
func TestAuditLifecycleTampering(t *testing.T) {
	l := newLedger(t)
	last := seedLifecycle(t, l)
	lines := l.export(1, 0)
	forge := func(ev *domain.Event) []byte {
		ev.Seq, ev.Version, ev.Command, ev.Time = 24, 1, domain.CommandRef{Seq: last.Command.Seq + 1}, minute(10)
		line, _, err := domain.AppendEvent(nil, ev, l.W.Last)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	for _, tc := range []struct {
		name   string
		ev     *domain.Event
		detail string
	}{
		{"a debit of a frozen account", &domain.Event{Type: domain.EventTransferPosted, Transfer: &domain.PostedTransfer{
			Transfer: domain.Transfer{ID: "z3", From: "alice", To: "carol", Amount: "1.00", Asset: "USD"},
			Entries: [2]domain.Entry{{Account: "alice", Type: domain.Debit, Amount: "1.00", Balance: "87.50"},
				{Account: "carol", Type: domain.Credit, Amount: "1.00", Balance: "-4.00"}}}}, "which is frozen"},
		{"a close with a balance", &domain.Event{Type: domain.EventAccountClosed, Change: &domain.AccountChange{Account: "bob"}}, "closed with a balance"},
		{"a limit below the balance", &domain.Event{Type: domain.EventAccountLimitChanged,
			Change: &domain.AccountChange{Account: "carol", OverdraftLimit: "1.00"}}, "lowered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, &audit.FileSource{Path: writeLines(t, append(lines[:len(lines):len(lines)], forge(tc.ev)))}, audit.Options{}).Report
			f, ok := rep.First(audit.CheckLimit)
			if rep.OK || !ok || f.Seq != 24 || !strings.Contains(f.Detail, tc.detail) {
				t.Fatalf("forged %s: %v", tc.name, rep.Findings)
			}
		})
	}
}
