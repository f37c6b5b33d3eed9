package projections

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/nats-ledger/ledger/domain"
)

// A listing reads newest first from the key ranges that hold the
// filter's candidates, each keyed by prefix + sequence, merged by
// sequence (the newest n of a union are among the newest n of each
// range, so a page costs O(n) when the filter is only the account or a
// side). Postings by account are the account's entries (one range per
// asset: one for an ordinary account, one per asset for the issuer), a
// sender's its debit entries, a recipient's its credit entries;
// rejections by account have ranges of their own (famFrom, famTo); an
// asset's transfers are one range; so are all the rejections; anything
// else scans the transfers themselves. An index value carries the status
// (and a rejection side's the asset), so that rows the filter refuses are
// skipped without being read.

// source is one key range scanned newest first.
type source struct {
	it      *pebble.Iterator
	plen    int  // the prefix before the sequence
	primary bool // the value is the transfer row (famTransfer)
	side    int  // famEntry: the entry side wanted, or anySide
	ok      bool
}

const anySide = -1

// rng is a key range to open: its prefix and, for entries, the side.
type rng struct {
	prefix []byte
	side   int
}

func openSource(r reader, g rng, lo, hi uint64, primary bool) (*source, error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: seqBound(g.prefix, lo), UpperBound: seqBound(g.prefix, hi)})
	if err != nil {
		return nil, err
	}
	s := &source{it: it, plen: len(g.prefix), primary: primary, side: g.side}
	s.ok = it.Last()
	s.settle()
	return s, nil
}

// settle moves past entries of the side not wanted.
func (s *source) settle() {
	for s.ok && s.side != anySide && s.it.Key()[len(s.it.Key())-1] != byte(s.side) {
		s.ok = s.it.Prev()
	}
}

func (s *source) step() {
	s.ok = s.it.Prev()
	s.settle()
}

func (s *source) seq() uint64 { return binary.BigEndian.Uint64(s.it.Key()[s.plen:]) }

// sources opens the ranges that hold f's candidates within [lo, hi).
func sources(r reader, f *TransferFilter, lo, hi uint64) ([]*source, error) {
	ranges, primary, err := rangesOf(r, f)
	if err != nil {
		return nil, err
	}
	var out []*source
	for _, g := range ranges {
		s, err := openSource(r, g, lo, hi, primary)
		if err != nil {
			closeSources(out)
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// rangesOf returns the key ranges that hold f's candidates.
func rangesOf(r reader, f *TransferFilter) ([]rng, bool, error) {
	account, side := f.Account, anySide
	switch {
	case account != "":
	case f.From != "":
		account, side = f.From, sideDebit
	case f.To != "":
		account, side = f.To, sideCredit
	case f.Asset != "":
		return []rng{{assetIndexPrefix(f.Asset), anySide}}, false, nil
	case f.Status == StatusRejected:
		return []rng{{[]byte{famRejected}, anySide}}, false, nil
	default:
		return []rng{{[]byte{famTransfer}, anySide}}, true, nil
	}
	var out []rng
	if f.Status != StatusPosted && f.Status != "" { // rejections
		if side != sideCredit {
			out = append(out, rng{sidePrefix(famFrom, account), anySide})
		}
		if side != sideDebit {
			out = append(out, rng{sidePrefix(famTo, account), anySide})
		}
	}
	if f.Status == StatusRejected {
		return out, false, nil
	}
	assets, err := assetsOf(r, account, f.Asset)
	for _, as := range assets {
		out = append(out, rng{entryPrefix(account, as), side})
	}
	return out, false, err
}

// assetsOf returns the assets in which account may have entries: an
// ordinary account's own (a conversion it received is there, in the
// recipient's asset, while the filter's asset is the transfer's, the
// sender's: such a listing reads the account's range and refuses the
// rows of other assets, as SQLite's index scan did), the issuer's in
// asset if given, or in every asset.
func assetsOf(r reader, account, asset string) ([]string, error) {
	if account == domain.World && asset != "" {
		return []string{asset}, nil
	}
	if account != domain.World {
		row, ok, err := findAccount(r, account, "")
		if err != nil || !ok {
			return nil, err
		}
		return []string{row.asset}, nil
	}
	var out []string
	p := []byte{famAsset}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, err
	}
	// Bounded by the assets defined: a handful, each with its own range.
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, string(it.Key()[1:]))
	}
	return out, errors.Join(it.Error(), it.Close())
}

func closeSources(srcs []*source) error {
	var errs []error
	for _, s := range srcs {
		errs = append(errs, s.it.Error(), s.it.Close())
	}
	return errors.Join(errs...)
}

// listTransfers returns at most n transfers matching f with sequences in
// [lo, hi), newest first.
func listTransfers(r reader, f TransferFilter, lo, hi uint64, n int) (out []TransferView, err error) {
	srcs, err := sources(r, &f, lo, hi)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, closeSources(srcs)) }()
	out = make([]TransferView, 0, n)
	for len(out) < n {
		var best *source
		for _, s := range srcs {
			if s.ok && (best == nil || s.seq() > best.seq()) {
				best = s
			}
		}
		if best == nil {
			return out, nil
		}
		seq := best.seq()
		row, ok, err := candidate(r, &f, best, seq)
		if err != nil {
			return nil, err
		}
		for _, s := range srcs { // both sides of one transfer count once
			for s.ok && s.seq() == seq {
				s.step()
			}
		}
		if ok && f.matches(&row) {
			v, err := row.view()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// candidate returns the row at seq unless the index value already shows
// that f refuses it.
func candidate(r reader, f *TransferFilter, s *source, seq uint64) (transferRow, bool, error) {
	v := s.it.Value()
	if s.primary {
		row, err := decodeTransfer(seq, v)
		if err != nil || !statusWanted(f.Status, row.status) {
			return row, false, err
		}
		return live(r, row)
	}
	k := s.it.Key()
	fam := k[0]
	if fam == famEntry && k[len(k)-1] > sideCredit {
		return transferRow{}, false, nil // a transaction's leg (ADR 0023), not a transfer
	}
	if fam != famEntry && len(v) >= 1 && !statusWanted(f.Status, v[0]) {
		return transferRow{}, false, nil
	}
	if (fam == famFrom || fam == famTo) && len(v) >= 1 && f.Asset != "" && string(v[1:]) != f.Asset {
		return transferRow{}, false, nil
	}
	row, ok, err := transferAt(r, seq)
	if err == nil && !ok {
		err = fmt.Errorf("index entry at %d without its transfer: %w", seq, errCorruptRow)
	}
	if err != nil {
		return row, false, err
	}
	return live(r, row)
}

// live passes a row on unless it is a dead rejection.
func live(r reader, row transferRow) (transferRow, bool, error) {
	if row.status != statusRejected {
		return row, true, nil
	}
	ok, err := liveRejection(r, &row)
	return row, ok, err
}

func statusWanted(filter string, status byte) bool {
	switch filter {
	case StatusAll:
		return true
	case StatusRejected:
		return status == statusRejected
	}
	return status == statusPosted
}
