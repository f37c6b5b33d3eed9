package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// AsOf selects a point of the journal: after sequence Seq, or after the
// last event at or before Time, or before the first event (Start);
// none of them means the journal's end.
type AsOf struct {
	Seq   uint64
	Time  time.Time
	Start bool
}

// ParseAsOf reads a sequence (0: before the first event) or an RFC 3339
// time; "" is the journal's end.
func ParseAsOf(s string) (AsOf, error) {
	if s == "" {
		return AsOf{}, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		if n == 0 {
			return AsOf{Start: true}, nil // before the first event
		}
		return AsOf{Seq: n}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return AsOf{}, fmt.Errorf("as of %q: want a sequence or an RFC 3339 time such as 2026-01-31T23:59:59Z", s)
	}
	return AsOf{Time: t}, nil
}

// Statement is every account's balance at a point of the journal and the
// totals per asset.
type Statement struct {
	AsOf     StatementPoint `json:"as_of"`
	Accounts []Balance      `json:"accounts"`
	Totals   []AssetTotal   `json:"totals"`
}

// StatementPoint says which point a Statement reflects: the state after
// the event with Sequence (0: before the first), whose time is EventTime.
// Requested echoes a time asked for.
type StatementPoint struct {
	Sequence  uint64     `json:"sequence"`
	EventTime *time.Time `json:"event_time,omitempty"`
	Requested *time.Time `json:"requested_time,omitempty"`
}

// ErrNotYet means a statement was asked as of a sequence the journal has
// not reached.
var ErrNotYet = errors.New("the journal has not reached that sequence")

// BalancesAsOf reads the journal from its start up to the point at,
// verifying it as Run does, and returns the balances there. A journal
// that fails a check up to that point returns the report and an error
// wrapping ErrFailed: balances from a broken journal mean nothing.
func BalancesAsOf(ctx context.Context, src Source, at AsOf, opts Options) (*Statement, *Report, error) {
	if at.Start {
		// Before the first event: nothing was defined, nothing is read.
		return &Statement{Accounts: []Balance{}, Totals: []AssetTotal{}}, nil, nil
	}
	opts.UntilSeq, opts.UntilTime = at.Seq, at.Time
	opts.AllowPartial = false
	res, err := Run(ctx, src, opts)
	if err != nil {
		return nil, nil, err
	}
	rep := res.Report
	if !rep.OK {
		f := rep.Findings[0]
		return nil, rep, fmt.Errorf("%w: %s", ErrFailed, f)
	}
	if at.Seq > rep.LastSeq {
		return nil, rep, fmt.Errorf("as of sequence %d: the journal ends at %d: %w", at.Seq, rep.LastSeq, ErrNotYet)
	}
	accounts, totals := res.Books.Balances()
	st := &Statement{AsOf: StatementPoint{Sequence: res.Books.Seq()}, Accounts: accounts, Totals: totals}
	if st.Accounts == nil {
		st.Accounts = []Balance{}
	}
	if st.AsOf.Sequence > 0 {
		t := res.Books.Time()
		st.AsOf.EventTime = &t
	}
	if !at.Time.IsZero() {
		t := at.Time
		st.AsOf.Requested = &t
	}
	return st, rep, nil
}

// WriteJSON writes the statement as one JSON document.
func (s *Statement) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteCSV writes the statement as CSV with the header
// kind,account,asset,balance: one "account" row per account (the issuer
// "world" once per asset, holding the negative of what it issued), then
// one "total" row per asset whose balance is the sum of its ordinary
// accounts: what is in circulation.
func (s *Statement) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"kind", "account", "asset", "balance"})
	for _, b := range s.Accounts {
		_ = cw.Write([]string{"account", b.Account, b.Asset, b.Balance})
	}
	for _, t := range s.Totals {
		_ = cw.Write([]string{"total", "", t.Asset, t.Total})
	}
	cw.Flush()
	return cw.Error()
}

// Balance is one account's balance in a listing.
type Balance struct {
	Account string `json:"account"`
	Asset   string `json:"asset"`
	Balance string `json:"balance"`
}

// AssetTotal sums an asset's balances: Total over the ordinary accounts
// (what is in circulation), Issuer for the issuer account and FX for the
// FX account's position (shown once a conversion moved it), which sum to
// its negative when the books balance.
type AssetTotal struct {
	Asset    string `json:"asset"`
	Scale    int    `json:"scale"`
	Accounts int    `json:"accounts"` // ordinary accounts, the issuer not counted
	Total    string `json:"total"`
	Issuer   string `json:"issuer"`
	FX       string `json:"fx,omitempty"`
	Sum      string `json:"sum"` // Total + Issuer + FX: zero
}

// Balances lists every account (the issuer's once per asset, the FX
// account's once a conversion moved it) by asset and id, and the totals
// per asset by code.
func (b *Books) Balances() ([]Balance, []AssetTotal) {
	codes := make([]string, 0, len(b.assets))
	for c := range b.assets {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	byAsset := make(map[*assetBook][]*accountBook, len(b.assets))
	for _, acc := range b.accounts {
		byAsset[acc.asset] = append(byAsset[acc.asset], acc)
	}
	var list []Balance
	totals := make([]AssetTotal, 0, len(codes))
	for _, c := range codes {
		as := b.assets[c]
		accs := append(byAsset[as], as.world)
		fxMoved := as.fx.lastSeq != as.fx.createdSeq
		if fxMoved {
			accs = append(accs, as.fx)
		}
		sort.Slice(accs, func(i, j int) bool { return accs[i].id < accs[j].id })
		var total domain.Amount
		for _, acc := range accs {
			list = append(list, Balance{Account: acc.id, Asset: c, Balance: acc.balance.Format(as.scale)})
			if acc != as.world && acc != as.fx {
				total, _ = total.Add(acc.balance)
			}
		}
		sum, _ := total.Add(as.world.balance)
		sum, _ = sum.Add(as.fx.balance)
		t := AssetTotal{Asset: c, Scale: as.scale, Accounts: len(byAsset[as]),
			Total: total.Format(as.scale), Issuer: as.world.balance.Format(as.scale), Sum: sum.Format(as.scale)}
		if fxMoved {
			t.FX = as.fx.balance.Format(as.scale)
		}
		totals = append(totals, t)
	}
	return list, totals
}
