package projections_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/projections"
)

// The read model of conversions (ADR 0019): the scenario, then the rate
// USD/JPY 150 (seq 16), a conversion of 10.01 USD from alice to kenji at
// it (seq 17: 1501 JPY), a refused one that gave a rate (seq 18), and the
// rate set again (seq 19). Each side's entry is in its own asset; the FX
// account's positions and entries are read like the issuer's.
func TestConversionReadModel(t *testing.T) {
	l := journaltest.New(t)
	seedScenario(l)
	l.Batch(domain.Command{Rate: &domain.RateSet{Base: "USD", Quote: "JPY", Rate: "150"}})
	l.Batch(journaltest.Transfer("x1", "alice", "kenji", "10.01"))
	refused := journaltest.Transfer("x2", "alice", "kenji", "1000")
	refused.Transfer.ExchangeRate = "149.5"
	l.Batch(refused)
	l.Batch(domain.Command{Rate: &domain.RateSet{Base: "USD", Quote: "JPY", Rate: "151.25"}})
	s := openStore(t, t.TempDir()+"/read.db")
	runProjector(t, s, l, nil)
	waitSeq(t, s, 19)
	ctx := context.Background()

	x1, err := s.Transfer(ctx, "x1")
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Entry{
		{Account: "alice", Type: domain.Debit, Amount: "10.01", Balance: "79.49"},
		{Account: domain.FX, Type: domain.Credit, Amount: "10.01", Balance: "10.01"},
		{Account: domain.FX, Type: domain.Debit, Amount: "1501", Balance: "-1501"},
		{Account: "kenji", Type: domain.Credit, Amount: "1501", Balance: "2501"},
	}
	if x1.Status != projections.StatusPosted || x1.Asset != "USD" || x1.Amount != "10.01" || x1.ExchangeRate != "150" ||
		x1.ToAsset != "JPY" || x1.ToAmount != "1501" || !reflect.DeepEqual(x1.Entries, want) {
		t.Fatalf("x1: %+v", x1)
	}
	if x2, err := s.Transfer(ctx, "x2"); err != nil || x2.Status != projections.StatusRejected || x2.ExchangeRate != "149.5" || x2.ToAsset != "" {
		t.Fatalf("x2: %+v %v", x2, err)
	}
	for _, c := range []struct {
		id, asset, balance string
		entry              projections.EntryView
	}{
		{"alice", "", "79.49", projections.EntryView{TransferID: "x1", Sequence: 17, Type: domain.Debit, Amount: "10.01", Balance: "79.49"}},
		{"kenji", "", "2501", projections.EntryView{TransferID: "x1", Sequence: 17, Type: domain.Credit, Amount: "1501", Balance: "2501"}},
		{domain.FX, "USD", "10.01", projections.EntryView{TransferID: "x1", Sequence: 17, Type: domain.Credit, Amount: "10.01", Balance: "10.01"}},
		{domain.FX, "JPY", "-1501", projections.EntryView{TransferID: "x1", Sequence: 17, Type: domain.Debit, Amount: "1501", Balance: "-1501"}},
	} {
		a, err := s.Account(ctx, c.id, c.asset)
		if err != nil || a.Balance != c.balance || a.Sequence != 17 {
			t.Errorf("account %s %s: %+v %v", c.id, c.asset, a, err)
		}
		page, err := s.Entries(ctx, c.id, c.asset, "", 1)
		if err != nil || len(page.Data) != 1 {
			t.Fatalf("entries of %s %s: %+v %v", c.id, c.asset, page, err)
		}
		got := page.Data[0]
		got.PostedAt, got.Reference = c.entry.PostedAt, c.entry.Reference
		if got != c.entry {
			t.Errorf("entry of %s %s: %+v, want %+v", c.id, c.asset, got, c.entry)
		}
		b, err := s.BalanceAsOf(ctx, c.id, c.asset, projections.AsOf{Seq: 16})
		if err != nil || b.Balance == c.balance {
			t.Errorf("balance of %s %s before the conversion: %+v %v", c.id, c.asset, b, err)
		}
	}
	// The FX account exists in every defined asset, with nothing moved
	// until a conversion; never without an asset.
	if _, err := s.Account(ctx, domain.FX, ""); !errors.Is(err, projections.ErrNotFound) {
		t.Errorf("FX without an asset: %v", err)
	}
	rates, err := s.Rates(ctx)
	if err != nil || len(rates) != 1 || rates[0].Rate != "151.25" || rates[0].Sequence != 19 {
		t.Fatalf("rates: %+v %v", rates, err)
	}
}
