package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/nats-ledger/ledger/domain"
)

// The read model of cross-currency transfers and the rate table (ADR
// 0019): a converted transfer is a posted row with its conversion's
// fields (codec.go) whose recipient's entry is in to_asset and whose FX
// legs are entries of their own family (famFXEntry); a rate is a key of
// famRate.

// TransferConverted records a converted transfer: the sender's debit and
// FX's credit in the transfer's asset, FX's debit and the recipient's
// credit in to_asset.
func (a *applier) TransferConverted(ev *domain.Event, c *domain.ConvertedTransfer) error {
	e := c.Entries
	if c.Asset == "" || c.ToAsset == "" || c.Asset == c.ToAsset || c.ExchangeRate == "" ||
		e[0].Account != c.From || e[0].Type != domain.Debit || e[3].Account != c.To || e[3].Type != domain.Credit ||
		e[1].Account != domain.FX || e[1].Type != domain.Credit || e[2].Account != domain.FX || e[2].Type != domain.Debit ||
		e[0].Amount != c.Amount || e[1].Amount != c.Amount || e[2].Amount != c.ToAmount || e[3].Amount != c.ToAmount {
		return fmt.Errorf("transfer %s: entries do not match the conversion: %w", c.ID, domain.ErrInconsistent)
	}
	meta, err := encodeMetadata(c.Metadata)
	if err != nil {
		return err
	}
	row := &transferRow{seq: ev.Seq, status: statusPosted, id: c.ID, from: c.From, to: c.To, amount: c.Amount,
		asset: c.Asset, reference: c.Reference, meta: meta, at: ev.Time.UnixNano(),
		debitBalance: e[0].Balance, creditBalance: e[3].Balance, exchangeRate: c.ExchangeRate,
		toAsset: c.ToAsset, toAmount: c.ToAmount, fxCreditBalance: e[1].Balance, fxDebitBalance: e[2].Balance, hash: ev.Hash}
	if err := a.post(row); err != nil {
		return err
	}
	// The FX account has no row: its positions exist with their assets,
	// which the two accounts' rows in those assets prove defined.
	a.touched[accountKey{c.From, c.Asset}] = struct{}{}
	a.touched[accountKey{c.To, c.ToAsset}] = struct{}{}
	return nil
}

// RateSet records the rate, replacing the pair's previous one.
func (a *applier) RateSet(ev *domain.Event, r *domain.RateSet) error {
	if r.Base == "" || r.Quote == "" || r.Rate == "" {
		return fmt.Errorf("rate %s/%s %q: %w", r.Base, r.Quote, r.Rate, domain.ErrInconsistent)
	}
	row := rateRow{rate: r.Rate, seq: ev.Seq, at: ev.Time.UnixNano()}
	_ = a.b.Set(rateKey(r.Base, r.Quote), row.encode(a.buf[:0]), nil)
	return nil
}

// RateView is one rate of the table: units of Quote per unit of Base.
type RateView struct {
	Base     string    `json:"base"`
	Quote    string    `json:"quote"`
	Rate     string    `json:"rate"`
	Sequence uint64    `json:"sequence"` // the RateSet that set it
	SetAt    time.Time `json:"set_at"`
}

// MaxRates bounds the rate table a listing returns: the domain's own
// bound on the table.
const MaxRates = domain.MaxRates

// Rates returns the rate table, by base and quote (at most MaxRates).
func (s *Store) Rates(context.Context) ([]RateView, error) {
	out := []RateView{}
	err := s.snapshot(func(r reader) error {
		p := []byte{famRate}
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
		if err != nil {
			return err
		}
		for ok := it.First(); ok && len(out) < MaxRates; ok = it.Next() {
			base, rest, ok1 := readEscaped(it.Key()[1:])
			quote, _, ok2 := readEscaped(rest)
			row, err := decodeRate(it.Value())
			if err == nil && (!ok1 || !ok2) {
				err = errCorruptRow
			}
			if err != nil {
				it.Close()
				return err
			}
			out = append(out, RateView{Base: base, Quote: quote, Rate: row.rate, Sequence: row.seq, SetAt: fromNanos(row.at)})
		}
		return errors.Join(it.Error(), it.Close())
	})
	if err != nil {
		return nil, fmt.Errorf("rates: %w", err)
	}
	return out, nil
}

// lookupFX is lookupAccount for the FX account: one position per defined
// asset, there since the asset was defined, unlimited and without owner
// like the issuer's. ErrNotFound without an asset or with an undefined
// one.
func lookupFX(r reader, asset string) (account, error) {
	if asset == "" {
		return account{}, ErrNotFound
	}
	as, ok, err := getAsset(r, asset)
	if err != nil {
		return account{}, fmt.Errorf("FX account in %s: %w", asset, err)
	}
	if !ok {
		return account{}, ErrNotFound
	}
	row := accountRow{asset: asset, overdraftLimit: domain.Unlimited, createdAt: as.createdAt, createdSeq: as.seq}
	return account{accountRow: row, scale: as.scale}, nil
}
