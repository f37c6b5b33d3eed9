package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
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
