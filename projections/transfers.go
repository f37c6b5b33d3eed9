package projections

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/nats-ledger/ledger/domain"
)

// Transfer returns the transfer id, posted or rejected. ErrNotFound when
// the read model has neither.
func (s *Store) Transfer(_ context.Context, id string) (TransferView, error) {
	var v TransferView
	err := s.snapshot(func(r reader) error {
		if hv, ok, err := holdTransfer(r, id); err != nil || ok {
			v = hv
			return err
		}
		row, ok, err := transferByID(r, id)
		if err != nil {
			return fmt.Errorf("transfer %s: %w", id, err)
		}
		if !ok {
			return ErrNotFound
		}
		if row.status == statusRejected {
			// A transaction posted under a refused transfer's id took
			// it (one id space, ADR 0023): the id's outcome is that.
			if tx, ok, err := transactionByID(r, id); err != nil || ok && tx.Status == StatusPosted {
				return firstErr(err, ErrNotFound)
			}
		}
		if v, err = row.view(); err != nil {
			return err
		}
		return addReversals(r, &row, &v)
	})
	return v, err
}

// Transfers returns a page of transfers, posted and rejected, newest first
// (by ledger sequence), filtered by f. ErrBadCursor, ErrBadLimit.
//
// The page is read from the narrowest key range the filter names (see
// listing.go): an account's two sides merged, a sender's or recipient's
// side, an asset's transfers, the rejections, or all transfers; the time
// bounds become sequence bounds through the journal clock (see seqFrom).
// Every other condition is checked on each row in the range.
func (s *Store) Transfers(_ context.Context, f TransferFilter) (Page[TransferView], error) {
	page := Page[TransferView]{Data: []TransferView{}}
	if err := checkLimit(f.Limit); err != nil {
		return page, err
	}
	below, err := decodeCursor(f.Cursor)
	if err != nil {
		return page, err
	}
	err = s.snapshot(func(r reader) error {
		lo, hi, err := seqRange(r, f, uint64(below))
		if err != nil {
			return err
		}
		if lo >= hi {
			return nil
		}
		page.Data, err = listTransfers(r, f, lo, hi, f.Limit+1)
		return err
	})
	if err != nil {
		return page, fmt.Errorf("transfers: %w", err)
	}
	if len(page.Data) > f.Limit {
		page.Data = page.Data[:f.Limit]
		page.NextCursor = encodeCursor(page.Data[f.Limit-1].Sequence)
	}
	return page, nil
}

// seqRange returns the sequences [lo, hi) a listing may hold: below the
// cursor, and within Since and Until by the journal clock.
func seqRange(r reader, f TransferFilter, below uint64) (lo, hi uint64, err error) {
	hi = below
	if !f.Since.IsZero() {
		if lo, err = seqFrom(r, nanosOf(f.Since)); err != nil {
			return 0, 0, err
		}
	}
	if !f.Until.IsZero() {
		until, err := seqFrom(r, nanosOf(f.Until))
		if err != nil {
			return 0, 0, err
		}
		hi = min(hi, until)
	}
	return lo, hi, nil
}

// seqFrom is the first ledger sequence at or after a time (Unix
// nanoseconds) by the journal clock, or past every sequence (MaxInt64)
// when the journal has nothing that late. The clock is the events' time
// clamped to be monotonic (see applier.tick), so "since T" and "until T"
// select a contiguous run of sequences; under a clock that never steps
// back that is exactly the transfers whose own time is in the range.
func seqFrom(r reader, nanos int64) (uint64, error) {
	seq, ok, err := firstClockFrom(r, nanos)
	if err != nil {
		return 0, fmt.Errorf("journal clock: %w", err)
	}
	if !ok {
		return math.MaxInt64, nil
	}
	return seq, nil
}

// matches reports whether a row passes every condition of f but the
// sequence range, which the scan has applied.
func (f *TransferFilter) matches(t *transferRow) bool {
	switch f.Status {
	case StatusAll:
	case StatusRejected:
		if t.status != statusRejected {
			return false
		}
	default:
		if t.status != statusPosted {
			return false
		}
	}
	switch {
	case f.Account != "" && t.from != f.Account && t.to != f.Account,
		f.From != "" && t.from != f.From,
		f.To != "" && t.to != f.To,
		f.Asset != "" && t.asset != f.Asset:
		return false
	}
	return f.Reference == "" || containsFoldASCII(t.reference, f.Reference)
}

// containsFoldASCII reports whether sub is in s, ASCII letters matching
// either case and every other byte only itself (as SQLite's LIKE did).
func containsFoldASCII(s, sub string) bool {
	return strings.Contains(lowerASCII(s), lowerASCII(sub))
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// view turns a row into the API's view.
func (t *transferRow) view() (TransferView, error) {
	v := TransferView{ID: t.id, From: t.from, To: t.to, Amount: t.amount, Asset: t.asset, Reference: t.reference,
		Sequence: t.seq, Hash: t.hash, Memo: domain.IsMemoAmount(t.amount), ExchangeRate: t.exchangeRate, Reverses: t.reverses}
	var err error
	if v.Metadata, err = decodeMetadata(t.meta); err != nil {
		return v, err
	}
	at := fromNanos(t.at)
	switch t.status {
	case statusPosted:
		v.Status = StatusPosted
		if t.debitBalance == "" || t.creditBalance == "" {
			return v, fmt.Errorf("transfer %s: entries missing: %w", v.ID, domain.ErrInconsistent)
		}
		v.PostedAt = &at
		v.Entries = []domain.Entry{
			{Account: v.From, Type: domain.Debit, Amount: v.Amount, Balance: t.debitBalance},
			{Account: v.To, Type: domain.Credit, Amount: v.Amount, Balance: t.creditBalance},
		}
		if t.converted() {
			v.ToAsset, v.ToAmount = t.toAsset, t.toAmount
			v.Entries = []domain.Entry{v.Entries[0],
				{Account: domain.FX, Type: domain.Credit, Amount: v.Amount, Balance: t.fxCreditBalance},
				{Account: domain.FX, Type: domain.Debit, Amount: v.ToAmount, Balance: t.fxDebitBalance},
				{Account: v.To, Type: domain.Credit, Amount: v.ToAmount, Balance: t.creditBalance},
			}
		}
	default:
		v.Status = StatusRejected
		v.Code, v.Detail = t.code, t.detail
		v.RejectedAt = &at
	}
	return v, nil
}
