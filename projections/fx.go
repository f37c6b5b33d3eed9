package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// The read model of cross-currency transfers and the rate table (ADR
// 0019): a converted transfer is a posted row with its conversion's
// columns (see the schema), a rate a row of rates.

// TransferConverted records a converted transfer: the sender's debit and
// FX's credit in the transfer's asset, FX's debit and the recipient's
// credit in to_asset.
func (a *applier) TransferConverted(ev *domain.Event, c *domain.ConvertedTransfer) error {
	e := c.Entries
	if c.Asset == "" || c.ToAsset == "" || e[0].Account != c.From || e[3].Account != c.To ||
		e[1].Account != domain.FX || e[2].Account != domain.FX || e[0].Amount != c.Amount || e[3].Amount != c.ToAmount {
		return fmt.Errorf("transfer %s: entries do not match the conversion: %w", c.ID, domain.ErrInconsistent)
	}
	meta, err := encodeMetadata(c.Metadata)
	if err != nil {
		return err
	}
	res, err := a.exec(stmtUpsertConverted, int64(ev.Seq), c.ID, c.From, c.To, c.Amount, c.Asset, c.Reference, meta,
		ev.Time.UnixNano(), e[0].Balance, e[3].Balance, c.ExchangeRate, c.ToAsset, c.ToAmount, e[1].Balance, e[2].Balance)
	if err != nil {
		return fmt.Errorf("converted transfer %s: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("transfer %s was posted before: %w", c.ID, domain.ErrInconsistent)
	}
	a.touched[accountKey{c.From, c.Asset}] = struct{}{}
	a.touched[accountKey{c.To, c.ToAsset}] = struct{}{}
	return nil
}

// RateSet records the rate, replacing the pair's previous one.
func (a *applier) RateSet(ev *domain.Event, r *domain.RateSet) error {
	if _, err := a.exec(stmtUpsertRate, r.Base, r.Quote, r.Rate, int64(ev.Seq), ev.Time.UnixNano()); err != nil {
		return fmt.Errorf("rate %s/%s: %w", r.Base, r.Quote, err)
	}
	return nil
}

// nullable is s, or SQL NULL when s is empty.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
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
// bound on the table (one rate per ordered pair of assets).
const MaxRates = 1 << 16

// Rates returns the rate table, by base and quote.
func (s *Store) Rates(ctx context.Context) ([]RateView, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT base, quote, rate, seq, at FROM rates ORDER BY base, quote LIMIT ?`, MaxRates)
	if err != nil {
		return nil, fmt.Errorf("rates: %w", err)
	}
	defer rows.Close()
	out := []RateView{}
	for rows.Next() {
		var v RateView
		var seq, at int64
		if err := rows.Scan(&v.Base, &v.Quote, &v.Rate, &seq, &at); err != nil {
			return nil, fmt.Errorf("rates: %w", err)
		}
		v.Sequence, v.SetAt = uint64(seq), fromNanos(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

// lookupFX is lookupAccount for the FX account: one position per defined
// asset, there since the asset was defined. ErrNotFound without an asset
// or with an undefined one.
func lookupFX(ctx context.Context, q queryer, asset string) (accountRow, error) {
	r, _, err := fxRow(ctx, q, asset)
	return r, err
}

func fxRow(ctx context.Context, q queryer, asset string) (accountRow, int64, error) {
	var r accountRow
	var seq, at int64
	if asset == "" {
		return r, 0, ErrNotFound
	}
	err := q.QueryRowContext(ctx, `SELECT code, scale, seq, created_at FROM assets WHERE code = ?`, asset).Scan(&r.asset, &r.scale, &seq, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return r, 0, ErrNotFound
	}
	if err != nil {
		return r, 0, fmt.Errorf("FX account in %s: %w", asset, err)
	}
	r.createdSeq = uint64(seq)
	return r, at, nil
}

// fxAccount is Account for the FX account in asset: like the issuer's
// view, unlimited and without owner, its balance the FX position.
func (s *Store) fxAccount(ctx context.Context, asset string) (AccountView, error) {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return AccountView{}, fmt.Errorf("FX account: %w", err)
	}
	defer tx.Rollback()
	r, at, err := fxRow(ctx, tx, asset)
	if err != nil {
		return AccountView{}, err
	}
	v := AccountView{ID: domain.FX, Asset: r.asset, OverdraftLimit: domain.Unlimited, Metadata: map[string]string{}, CreatedAt: fromNanos(at)}
	v.Sequence, v.Balance, err = latestEntry(ctx, tx, domain.FX, r.asset, r.createdSeq, r.scale)
	return v, err
}
