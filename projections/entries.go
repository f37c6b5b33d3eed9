package projections

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/nats-ledger/ledger/domain"
)

// Entries returns a page of the account's entries, newest first, each with
// the balance after it. asset matters only for "world" and "fx" (see
// Account).
// cursor is empty for the first page or a NextCursor; limit is 1 to
// MaxPageLimit. ErrNotFound for an unknown account, ErrBadCursor,
// ErrBadLimit.
//
// The account's entries in its asset are one key range (entryPrefix),
// ordered by sequence: a page is one reverse scan of at most limit+1 keys
// and a point read of each entry's transfer, whatever the history.
func (s *Store) Entries(_ context.Context, account, asset, cursor string, limit int) (Page[EntryView], error) {
	page := Page[EntryView]{Data: []EntryView{}}
	if err := checkLimit(limit); err != nil {
		return page, err
	}
	below, err := decodeCursor(cursor)
	if err != nil {
		return page, err
	}
	err = s.snapshot(func(r reader) error {
		acc, err := lookupAccount(r, account, asset)
		if err != nil {
			return err
		}
		page.Data, err = entriesBelow(r, account, acc.asset, uint64(below), limit+1)
		return err
	})
	if err != nil {
		return page, err
	}
	if len(page.Data) > limit {
		// An account's entries in one multi-leg transaction share its
		// sequence (ADR 0023): the page ends between sequences, so that
		// the cursor (a sequence) skips none of them. Only a page smaller
		// than the account's entries in one transaction (at most
		// domain.MaxLegs) must cut inside it.
		cut := limit
		for cut > 1 && page.Data[cut-1].Sequence == page.Data[cut].Sequence {
			cut--
		}
		page.Data = page.Data[:cut]
		page.NextCursor = encodeCursor(page.Data[cut-1].Sequence)
	}
	return page, nil
}

// entriesBelow reads at most n entries of the account in asset with a
// sequence below below, newest first. Each entry's amount is in its
// own asset: a conversion's recipient and the FX account's debit show
// to_amount.
func entriesBelow(r reader, account, asset string, below uint64, n int) ([]EntryView, error) {
	p := positionPrefix(account, asset)
	fx := account == domain.FX
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: seqBound(p, below)})
	if err != nil {
		return nil, fmt.Errorf("entries of %s: %w", account, err)
	}
	defer it.Close()
	out := make([]EntryView, 0, n)
	for ok := it.Last(); ok && len(out) < n; ok = it.Prev() {
		k := it.Key()
		if len(k) != len(p)+9 {
			return nil, fmt.Errorf("entries of %s: %w", account, errCorruptRow)
		}
		seq := binary.BigEndian.Uint64(k[len(p):])
		if side := k[len(k)-1]; side > sideCredit {
			e, err := legEntry(r, seq, side, string(it.Value()))
			if err != nil {
				return nil, fmt.Errorf("entries of %s: %w", account, err)
			}
			out = append(out, e)
			continue
		}
		t, found, err := transferAt(r, seq)
		if err != nil {
			return nil, fmt.Errorf("entries of %s: %w", account, err)
		}
		if !found {
			return nil, fmt.Errorf("entries of %s: no transfer at %d: %w", account, seq, errCorruptRow)
		}
		credit := k[len(k)-1] == sideCredit
		e := EntryView{TransferID: t.id, Sequence: seq, Type: "debit", Amount: t.amount, Balance: string(it.Value()),
			Reference: t.reference, PostedAt: fromNanos(t.at)}
		if credit {
			e.Type = "credit"
		}
		if t.converted() && credit != fx {
			e.Amount = t.toAmount
		}
		out = append(out, e)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("entries of %s: %w", account, err)
	}
	return out, nil
}
