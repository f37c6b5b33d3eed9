package projections

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// A listing reads newest first from the key ranges that hold the
// filter's candidates, each keyed by prefix + sequence: an account's
// transfers are its sender side and its recipient side merged by
// sequence (the newest n of a union are among the newest n of each side,
// so a page costs O(n) when the filter is only the account); a sender's,
// a recipient's or an asset's transfers are one range; so are the
// rejections; anything else scans the transfers themselves. An index
// value carries the status (and a side's the asset), so that rows the
// filter refuses are skipped without being read.

// source is one key range scanned newest first.
type source struct {
	it      *pebble.Iterator
	plen    int  // the prefix before the sequence
	primary bool // the value is the transfer row (famTransfer)
	ok      bool
}

func openSource(r reader, prefix []byte, lo, hi uint64, primary bool) (*source, error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: seqBound(prefix, lo), UpperBound: seqBound(prefix, hi)})
	if err != nil {
		return nil, err
	}
	s := &source{it: it, plen: len(prefix), primary: primary}
	s.ok = it.Last()
	return s, nil
}

func (s *source) seq() uint64 { return binary.BigEndian.Uint64(s.it.Key()[s.plen:]) }

// sources opens the ranges that hold f's candidates within [lo, hi).
func sources(r reader, f *TransferFilter, lo, hi uint64) ([]*source, error) {
	var prefixes [][]byte
	primary := false
	switch {
	case f.Account != "":
		prefixes = [][]byte{sidePrefix(famFrom, f.Account), sidePrefix(famTo, f.Account)}
	case f.From != "":
		prefixes = [][]byte{sidePrefix(famFrom, f.From)}
	case f.To != "":
		prefixes = [][]byte{sidePrefix(famTo, f.To)}
	case f.Asset != "":
		prefixes = [][]byte{assetIndexPrefix(f.Asset)}
	case f.Status == StatusRejected:
		prefixes = [][]byte{{famRejected}}
	default:
		prefixes, primary = [][]byte{{famTransfer}}, true
	}
	var out []*source
	for _, p := range prefixes {
		s, err := openSource(r, p, lo, hi, primary)
		if err != nil {
			closeSources(out)
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
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
			if s.ok && s.seq() == seq {
				s.ok = s.it.Prev()
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
		return row, err == nil, err
	}
	if len(v) >= 1 && !statusWanted(f.Status, v[0]) {
		return transferRow{}, false, nil
	}
	if len(v) >= 1 && s.plen > 0 && (s.it.Key()[0] == famFrom || s.it.Key()[0] == famTo) &&
		f.Asset != "" && string(v[1:]) != f.Asset {
		return transferRow{}, false, nil
	}
	row, ok, err := transferAt(r, seq)
	if err == nil && !ok {
		err = fmt.Errorf("index entry at %d without its transfer: %w", seq, errCorruptRow)
	}
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
