package projections_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/projections"
)

// TestProjectorAppliesJournal runs the projector over the scenario's
// journal and checks every query against values worked out by hand.
func TestProjectorAppliesJournal(t *testing.T) {
	l := journaltest.New(t)
	seedScenario(l)
	s := openStore(t, t.TempDir()+"/read.db")
	p, _ := runProjector(t, s, l, nil)
	waitSeq(t, s, 15)
	ctx := context.Background()

	cp, err := s.Checkpoint(ctx)
	if err != nil || cp != (projections.Checkpoint{Seq: 15, Position: l.W.Position}) {
		t.Fatalf("checkpoint = %+v, %v; want seq 15, position %d", cp, err, l.W.Position)
	}
	if p.Position() != l.W.Position {
		t.Errorf("Position() = %d, want %d", p.Position(), l.W.Position)
	}

	t.Run("accounts", func(t *testing.T) {
		want := []projections.AccountView{
			{ID: "alice", Asset: "USD", Balance: "89.50", OverdraftLimit: "0.00", Metadata: map[string]string{}, CreatedAt: journaltest.Minute(2), Sequence: 14, PendingView: projections.PendingView{PendingDebits: "0.00", PendingCredits: "0.00", Available: "89.50"}, Status: "open"},
			{ID: "bob", Asset: "USD", Balance: "60.00", OverdraftLimit: "0.00", Metadata: map[string]string{}, CreatedAt: journaltest.Minute(2), Sequence: 15, PendingView: projections.PendingView{PendingDebits: "0.00", PendingCredits: "0.00", Available: "60.00"}, Status: "open"},
			{ID: "carol", Asset: "USD", Balance: "-5.00", OverdraftLimit: "10.00", Metadata: map[string]string{}, CreatedAt: journaltest.Minute(2), Sequence: 14, PendingView: projections.PendingView{PendingDebits: "0.00", PendingCredits: "0.00", Available: "-5.00"}, Status: "open"},
			{ID: "kenji", Asset: "JPY", Balance: "1000", OverdraftLimit: "0", Owner: "k", Metadata: map[string]string{"tier": "gold"}, CreatedAt: journaltest.Minute(2), Sequence: 9, PendingView: projections.PendingView{PendingDebits: "0", PendingCredits: "0", Available: "1000"}, Status: "open"},
			{ID: "world", Asset: "USD", Balance: "-144.50", OverdraftLimit: "unlimited", Metadata: map[string]string{}, CreatedAt: journaltest.Minute(1), Sequence: 15, PendingView: projections.PendingView{PendingDebits: "0.00", PendingCredits: "0.00", Available: "-144.50"}, Status: "open"},
			{ID: "world", Asset: "JPY", Balance: "-1000", OverdraftLimit: "unlimited", Metadata: map[string]string{}, CreatedAt: journaltest.Minute(1), Sequence: 9, PendingView: projections.PendingView{PendingDebits: "0", PendingCredits: "0", Available: "-1000"}, Status: "open"},
		}
		for i, a := range scenarioAccounts {
			got, err := s.Account(ctx, a[0], a[1])
			if err != nil {
				t.Fatalf("Account(%v): %v", a, err)
			}
			if !reflect.DeepEqual(got, want[i]) {
				t.Errorf("Account(%v)\n got %+v\nwant %+v", a, got, want[i])
			}
		}
		for _, a := range [][2]string{{"dave", ""}, {"world", ""}, {"world", "EUR"}} {
			if _, err := s.Account(ctx, a[0], a[1]); !errors.Is(err, projections.ErrNotFound) {
				t.Errorf("Account(%v) = %v, want ErrNotFound", a, err)
			}
		}
	})

	t.Run("entries", func(t *testing.T) {
		e := func(id string, seq uint64, typ, amount, bal, ref string, m int) projections.EntryView {
			return projections.EntryView{TransferID: id, Sequence: seq, Type: typ, Amount: amount, Balance: bal, Reference: ref, PostedAt: journaltest.Minute(m)}
		}
		want := map[string][]projections.EntryView{
			"alice/": {e("t3", 14, "credit", "15.00", "89.50", "retry", 5), e("t1", 10, "debit", "25.50", "74.50", "invoice 42%", 4),
				e("m1", 7, "credit", "100.00", "100.00", "mint", 3)},
			"bob/": {e("t5", 15, "debit", "6.00", "60.00", "burn", 5), e("t2", 11, "debit", "10.00", "66.00", "rent_march", 4),
				e("t1", 10, "credit", "25.50", "76.00", "invoice 42%", 4), e("m2", 8, "credit", "50.50", "50.50", "mint", 3)},
			"carol/": {e("t3", 14, "debit", "15.00", "-5.00", "retry", 5), e("t2", 11, "credit", "10.00", "10.00", "rent_march", 4)},
			"kenji/": {e("m3", 9, "credit", "1000", "1000", "", 3)},
			"world/USD": {e("t5", 15, "credit", "6.00", "-144.50", "burn", 5), e("m2", 8, "debit", "50.50", "-150.50", "mint", 3),
				e("m1", 7, "debit", "100.00", "-100.00", "mint", 3)},
			"world/JPY": {e("m3", 9, "debit", "1000", "-1000", "", 3)},
		}
		for _, a := range scenarioAccounts {
			for _, limit := range []int{1, 2, 3, 4, 100} {
				got := allEntries(t, s, a[0], a[1], limit)
				if !reflect.DeepEqual(got, want[a[0]+"/"+a[1]]) {
					t.Errorf("entries of %v, limit %d\n got %+v\nwant %+v", a, limit, got, want[a[0]+"/"+a[1]])
				}
			}
		}
		// A page exactly as long as what is left ends the listing.
		p, err := s.Entries(ctx, "bob", "", "", 4)
		if err != nil || len(p.Data) != 4 || p.NextCursor != nil {
			t.Errorf("bob's 4 entries with limit 4: %d entries, next %v, err %v; want 4, nil", len(p.Data), p.NextCursor, err)
		}
		p, err = s.Entries(ctx, "bob", "", "", 3)
		if err != nil || len(p.Data) != 3 || p.NextCursor == nil {
			t.Fatalf("bob with limit 3: %d entries, next %v, err %v", len(p.Data), p.NextCursor, err)
		}
		if _, err := s.Entries(ctx, "dave", "", "", 10); !errors.Is(err, projections.ErrNotFound) {
			t.Errorf("entries of dave: %v, want ErrNotFound", err)
		}
		for _, c := range []string{"!!", "abc", "LTE", "MDEw", "MA", "OTIyMzM3MjAzNjg1NDc3NTgwOA"} { // junk, not digits, "-1", "010", "0", 2^63
			if _, err := s.Entries(ctx, "bob", "", c, 10); !errors.Is(err, projections.ErrBadCursor) {
				t.Errorf("cursor %q: %v, want ErrBadCursor", c, err)
			}
		}
		for _, limit := range []int{0, -1, 101} {
			if _, err := s.Entries(ctx, "bob", "", "", limit); !errors.Is(err, projections.ErrBadLimit) {
				t.Errorf("limit %d: %v, want ErrBadLimit", limit, err)
			}
		}
	})

	t.Run("transfers", func(t *testing.T) {
		at := func(m int) *time.Time { tm := journaltest.Minute(m); return &tm }
		noMeta := map[string]string{}
		t3 := projections.TransferView{ID: "t3", Status: "posted", From: "carol", To: "alice", Amount: "15.00", Asset: "USD",
			Reference: "retry", Metadata: noMeta, Sequence: 14, PostedAt: at(5), Entries: []domain.Entry{
				{Account: "carol", Type: "debit", Amount: "15.00", Balance: "-5.00"},
				{Account: "alice", Type: "credit", Amount: "15.00", Balance: "89.50"}},
			// The read of one posting shows what remains to reverse (ADR 0023).
			Reversals: []projections.ReversalView{}, Reversible: "15.00"}
		t4 := projections.TransferView{ID: "t4", Status: "rejected", From: "dave", To: "alice", Amount: "1", Metadata: noMeta,
			Sequence: 13, Code: "account_not_found", Detail: "account dave does not exist", RejectedAt: at(4)}
		// Each keeps the journal hash of its event.
		t3.Hash, t4.Hash = l.HashAt(14), l.HashAt(13)
		for id, want := range map[string]projections.TransferView{"t3": t3, "t4": t4} {
			got, err := s.Transfer(ctx, id)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("Transfer(%s) = %v\n got %+v\nwant %+v", id, err, got, want)
			}
		}
		if _, err := s.Transfer(ctx, "nope"); !errors.Is(err, projections.ErrNotFound) {
			t.Errorf("Transfer(nope) = %v, want ErrNotFound", err)
		}
		m1, err := s.Transfer(ctx, "m1")
		if err != nil || m1.Entries[0] != (domain.Entry{Account: "world", Type: "debit", Amount: "100.00", Balance: "-100.00"}) {
			t.Errorf("m1 = %+v, %v", m1, err)
		}

		ids := func(vs []projections.TransferView) []string {
			out := []string{}
			for _, v := range vs {
				out = append(out, v.ID)
			}
			return out
		}
		all := projections.StatusAll
		cases := []struct {
			name string
			f    projections.TransferFilter
			want []string
		}{
			{"all", projections.TransferFilter{Status: all}, []string{"t5", "t3", "t4", "t2", "t1", "m3", "m2", "m1"}},
			{"posted by default", projections.TransferFilter{}, []string{"t5", "t3", "t2", "t1", "m3", "m2", "m1"}},
			{"rejected only", projections.TransferFilter{Status: projections.StatusRejected}, []string{"t4"}},
			{"account alice", projections.TransferFilter{Account: "alice", Status: all}, []string{"t3", "t4", "t1", "m1"}},
			{"account alice posted", projections.TransferFilter{Account: "alice"}, []string{"t3", "t1", "m1"}},
			{"account world", projections.TransferFilter{Account: "world"}, []string{"t5", "m3", "m2", "m1"}},
			{"account world in JPY", projections.TransferFilter{Account: "world", Asset: "JPY"}, []string{"m3"}},
			{"from bob", projections.TransferFilter{From: "bob"}, []string{"t5", "t2"}},
			{"to alice", projections.TransferFilter{To: "alice", Status: all}, []string{"t3", "t4", "m1"}},
			{"from world to bob", projections.TransferFilter{From: "world", To: "bob"}, []string{"m2"}},
			{"asset USD", projections.TransferFilter{Asset: "USD"}, []string{"t5", "t3", "t2", "t1", "m2", "m1"}},
			{"asset JPY", projections.TransferFilter{Asset: "JPY"}, []string{"m3"}},
			{"reference 42%", projections.TransferFilter{Reference: "42%"}, []string{"t1"}},
			{"reference %", projections.TransferFilter{Reference: "%"}, []string{"t1"}},
			{"reference _", projections.TransferFilter{Reference: "_"}, []string{"t2"}},
			{"reference INVOICE", projections.TransferFilter{Reference: "INVOICE"}, []string{"t1"}},
			{"reference backslash", projections.TransferFilter{Reference: `\`}, []string{}},
			{"since minute 4", projections.TransferFilter{Since: journaltest.Minute(4), Status: all}, []string{"t5", "t3", "t4", "t2", "t1"}},
			{"minute 4 only", projections.TransferFilter{Since: journaltest.Minute(4), Until: journaltest.Minute(5), Status: all}, []string{"t4", "t2", "t1"}},
			{"until minute 4", projections.TransferFilter{Until: journaltest.Minute(4)}, []string{"m3", "m2", "m1"}},
			{"alice since minute 4", projections.TransferFilter{Account: "alice", Since: journaltest.Minute(4), Status: all}, []string{"t3", "t4", "t1"}},
			{"nobody", projections.TransferFilter{Account: "zed"}, []string{}},
		}
		for _, c := range cases {
			for _, limit := range []int{1, 3, 8, 100} {
				f := c.f
				f.Limit = limit
				if got := ids(allTransfers(t, s, f)); !reflect.DeepEqual(got, c.want) {
					t.Errorf("%s, limit %d: %v, want %v", c.name, limit, got, c.want)
				}
			}
		}
		// Pages of 3 over 8 transfers: 3, 3, 2, the last with no cursor.
		f := projections.TransferFilter{Limit: 3, Status: all}
		var sizes []int
		for {
			p, err := s.Transfers(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(p.Data))
			if p.NextCursor == nil {
				break
			}
			f.Cursor = *p.NextCursor
		}
		if !reflect.DeepEqual(sizes, []int{3, 3, 2}) {
			t.Errorf("page sizes %v, want [3 3 2]", sizes)
		}
		if _, err := s.Transfers(ctx, projections.TransferFilter{Limit: 10, Cursor: "%%%"}); !errors.Is(err, projections.ErrBadCursor) {
			t.Errorf("bad cursor: %v", err)
		}
		if _, err := s.Transfers(ctx, projections.TransferFilter{}); !errors.Is(err, projections.ErrBadLimit) {
			t.Errorf("limit 0: %v", err)
		}
	})

	t.Run("balance as of", func(t *testing.T) {
		cases := []struct {
			id, asset string
			asOf      projections.AsOf
			balance   string
			seq       uint64
		}{
			{"alice", "", projections.AsOf{Seq: 2}, "0.00", 2}, // opened at 3: zero, not ErrNotFound
			{"alice", "", projections.AsOf{Seq: 6}, "0.00", 6},
			{"alice", "", projections.AsOf{Seq: 7}, "100.00", 7},
			{"alice", "", projections.AsOf{Seq: 12}, "74.50", 12},
			{"alice", "", projections.AsOf{Seq: 14}, "89.50", 14},
			{"alice", "", projections.AsOf{Seq: 1000}, "89.50", 15}, // beyond the checkpoint: as of the checkpoint
			{"bob", "", projections.AsOf{Seq: 10}, "76.00", 10},
			{"carol", "", projections.AsOf{Seq: 13}, "10.00", 13},
			{"carol", "", projections.AsOf{Seq: 15}, "-5.00", 15},
			{"world", "USD", projections.AsOf{Seq: 8}, "-150.50", 8},
			{"world", "USD", projections.AsOf{Seq: 1}, "0.00", 1},
			{"world", "JPY", projections.AsOf{Seq: 8}, "0", 8},
			{"kenji", "", projections.AsOf{Seq: 9}, "1000", 9},
			{"alice", "", projections.AsOf{Time: journaltest.Minute(0)}, "0.00", 0},                       // before the journal
			{"alice", "", projections.AsOf{Time: journaltest.Minute(3)}, "100.00", 9},                     // at a batch's time: included
			{"alice", "", projections.AsOf{Time: journaltest.Minute(3).Add(-time.Nanosecond)}, "0.00", 6}, // just before it
			{"alice", "", projections.AsOf{Time: journaltest.Minute(4).Add(30 * time.Second)}, "74.50", 13},
			{"bob", "", projections.AsOf{Time: journaltest.Minute(5)}, "60.00", 15},
			{"world", "USD", projections.AsOf{Time: journaltest.Minute(3)}, "-150.50", 9},
			{"alice", "", projections.AsOf{Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, "89.50", 15},
		}
		for _, c := range cases {
			got, err := s.BalanceAsOf(ctx, c.id, c.asset, c.asOf)
			if err != nil {
				t.Errorf("%s as of %+v: %v", c.id, c.asOf, err)
				continue
			}
			want := projections.BalanceView{Account: c.id, Asset: got.Asset, Balance: c.balance, AsOf: projections.AsOfView{Sequence: c.seq}}
			if !c.asOf.Time.IsZero() {
				tm := c.asOf.Time
				want.AsOf.Time = &tm
			}
			if c.seq == cp.Seq {
				// Pending amounts are shown as of the latest sequence only.
				want.PendingView = &projections.PendingView{PendingDebits: "0.00", PendingCredits: "0.00", Available: c.balance}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s as of %+v\n got %+v\nwant %+v", c.id, c.asOf, got, want)
			}
		}
		if _, err := s.BalanceAsOf(ctx, "dave", "", projections.AsOf{Seq: 3}); !errors.Is(err, projections.ErrNotFound) {
			t.Errorf("dave: %v, want ErrNotFound", err)
		}
		for _, bad := range []projections.AsOf{{}, {Seq: 3, Time: journaltest.Minute(3)}} {
			if _, err := s.BalanceAsOf(ctx, "alice", "", bad); !errors.Is(err, projections.ErrBadAsOf) {
				t.Errorf("as of %+v: %v, want ErrBadAsOf", bad, err)
			}
		}
	})
}
