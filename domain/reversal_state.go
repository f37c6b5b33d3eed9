package domain

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// The reversals in the state's encoding (snapshot.go), after the rates:
//
//	uvarint #reversed transfers, then per transfer, sorted by key:
//	    key [16], total reversed int128, uvarint #reversals (1..MaxReversals),
//	    then per reversal, in posting order: key [16], amount int128

// reversedImage is a reversed transfer's entry as an Image keeps it: the
// total copied, the reversals' slice header (appends after the image
// write past its length only).
type reversedImage struct {
	key   idKey
	total Amount
	of    []reversalRef
}

// minReversedBytes is the smallest encoding of a reversed transfer.
const minReversedBytes = 16 + 16 + 1 + 16 + 16

func (s *State) reversedImage() []reversedImage {
	out := make([]reversedImage, 0, len(s.reversed))
	for k, rs := range s.reversed {
		out = append(out, reversedImage{key: k, total: rs.total, of: rs.of})
	}
	return out
}

func appendReversed(b []byte, rs []reversedImage) []byte {
	slices.SortFunc(rs, func(a, b reversedImage) int { return bytes.Compare(a.key[:], b.key[:]) })
	b = binary.AppendUvarint(b, uint64(len(rs)))
	for _, r := range rs {
		b = append(b, r.key[:]...)
		b = appendAmount(b, r.total)
		b = binary.AppendUvarint(b, uint64(len(r.of)))
		for _, x := range r.of {
			b = append(b, x.key[:]...)
			b = appendAmount(b, x.amount)
		}
	}
	return b
}

// reversed reads the reversed transfers into st, refusing keys out of
// order, counts outside 1..MaxReversals, amounts not positive and totals
// that are not their reversals' sum.
func (r *stateReader) reversed(st *State) {
	n := r.count("reversed transfers", minReversedBytes)
	var prev idKey
	for i := 0; i < n && r.err == nil; i++ {
		k := idKey(r.next(16))
		total := r.amount()
		m := r.uvarint()
		if r.err != nil {
			return
		}
		if m == 0 || m > MaxReversals || i > 0 && bytes.Compare(prev[:], k[:]) >= 0 {
			r.fail("reversed transfer %d: %d reversals, or out of order", i, m)
			return
		}
		rs := &reversals{of: make([]reversalRef, 0, m)}
		for j := uint64(0); j < m && r.err == nil; j++ {
			x := reversalRef{key: idKey(r.next(16)), amount: r.amount()}
			var ok bool
			if rs.total, ok = rs.total.Add(x.amount); !ok || x.amount.Sign() <= 0 {
				r.fail("reversed transfer %d: reversal %d", i, j)
			}
			rs.of = append(rs.of, x)
		}
		if r.err == nil && rs.total != total {
			r.fail("reversed transfer %d: total is not the reversals' sum", i)
		}
		if st.reversed == nil {
			st.reversed = make(map[idKey]*reversals, n)
		}
		st.reversed[k] = rs
		prev = k
	}
}
