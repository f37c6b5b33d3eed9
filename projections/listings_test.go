package projections_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/projections"
)

// A page filtered by status examines at most AccountScanMax accounts: with
// the only frozen account beyond them, the first page is empty and has a
// cursor, and the next one finds it; a limit change and a freeze show in
// the account's view, and the owner index finds an owner's accounts.
func TestAccountListingScanBound(t *testing.T) {
	l := journaltest.New(t)
	l.Batch(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	n := projections.AccountScanMax + 50
	for i := 0; i < n; i += 500 {
		var cmds []domain.Command
		for j := i; j < min(i+500, n); j++ {
			cmds = append(cmds, domain.Command{Account: &domain.Account{ID: fmt.Sprintf("acc-%05d", j), Asset: "USD", Owner: fmt.Sprintf("owner-%d", j%7)}})
		}
		l.Batch(cmds...)
	}
	last := fmt.Sprintf("acc-%05d", n-1)
	l.Batch(domain.Command{Lifecycle: &domain.LifecycleRequest{Action: domain.ActionFreeze, AccountChange: domain.AccountChange{Account: last, Frozen: domain.FrozenAll}}},
		domain.Command{Lifecycle: &domain.LifecycleRequest{Action: domain.ActionLimit, AccountChange: domain.AccountChange{Account: last, OverdraftLimit: "12.5"}}})
	s := openStore(t, t.TempDir()+"/read.db")
	runProjector(t, s, l, nil)
	waitSeq(t, s, l.W.State.Seq())
	ctx := context.Background()

	page, err := s.Accounts(ctx, projections.AccountFilter{Status: domain.AccountFrozen, Limit: 10})
	if err != nil || len(page.Data) != 0 || page.NextCursor == nil {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	page, err = s.Accounts(ctx, projections.AccountFilter{Status: domain.AccountFrozen, Limit: 10, Cursor: *page.NextCursor})
	if err != nil || len(page.Data) != 1 || page.NextCursor != nil {
		t.Fatalf("second page: %+v, %v", page, err)
	}
	if a := page.Data[0]; a.ID != last || a.Status != domain.AccountFrozen || a.Frozen != domain.FrozenAll || a.OverdraftLimit != "12.50" {
		t.Fatalf("the frozen account: %+v", a)
	}
	page, err = s.Accounts(ctx, projections.AccountFilter{Owner: "owner-3", Limit: 100})
	if err != nil || len(page.Data) != 100 || page.NextCursor == nil || page.Data[0].ID != "acc-00003" || page.Data[1].ID != "acc-00010" {
		t.Fatalf("owner-3's first page: %d accounts, %v", len(page.Data), err)
	}
	for _, bad := range []projections.AccountFilter{{Limit: 0}, {Limit: 101}, {Limit: 1, Cursor: "!"}} {
		if _, err := s.Accounts(ctx, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
