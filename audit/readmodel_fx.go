package audit

import (
	"fmt"
	"strings"

	"github.com/nats-ledger/ledger/domain"
)

// TransferConverted compares a conversion's row: the transfer, its rate,
// to_asset and to_amount, and the balances after its four entries.
func (h readModelEvent) TransferConverted(ev *domain.Event, c *domain.ConvertedTransfer) error {
	if !h.applied {
		return nil
	}
	rm, f := h.rm, h.f
	p, err := rm.postingAt(ev, &c.Transfer, "converted", f)
	if p == nil {
		return err
	}
	got := domain.Transfer{ID: p.ID, From: p.From, To: p.To, Amount: p.Amount, Asset: p.Asset, Reference: p.Reference, Metadata: p.Metadata}
	diffs := requestDiffs(got, p.AtUnixNanos, p.Hash, ev)
	b := h.b
	for _, d := range [...]struct{ name, got, want string }{
		{"exchange_rate", p.ExchangeRate, c.ExchangeRate}, {"to_asset", p.ToAsset, c.ToAsset}, {"to_amount", p.ToAmount, c.ToAmount},
		{"balance after the debit of " + c.From, p.DebitBalance, b.afterConv[0]},
		{"FX balance after its credit", p.FXCreditBalance, b.afterConv[1]},
		{"FX balance after its debit", p.FXDebitBalance, b.afterConv[2]},
		{"balance after the credit of " + c.To, p.CreditBalance, b.afterConv[3]},
	} {
		if d.got != d.want {
			diffs = append(diffs, fmt.Sprintf("%s %q, recomputed %q", d.name, d.got, d.want))
		}
	}
	if len(diffs) > 0 {
		f(Finding{Check: CheckReadModel, Seq: ev.Seq, Account: c.From, Asset: c.Asset,
			Detail: "transfer " + c.ID + ": " + strings.Join(diffs, "; ")})
	}
	rm.replaced(ev, &c.Transfer, b, f)
	return nil
}
