//go:build !amd64

package domain

import (
	"math/bits"
	"unsafe"
)

// hasAVX2: no assembly here (chars_amd64.s, literal_amd64.s), so the
// classifier and digits16 below, in Go, run only where the tests turn
// useAVX2 on.
func hasAVX2() bool { return false }

// unmarked32 is the classifier in Go, for the tests that turn useAVX2
// on where there is no assembly: bit k set where the byte at p+k is not
// marked by n.
func unmarked32(p *byte, n *nibbleTables) uint32 {
	b := unsafe.Slice(p, 32)
	var m uint32
	for k, c := range b {
		if n.lo[c&15]&n.hi[c>>4] == 0 {
			m |= 1 << k
		}
	}
	return m
}

// digits16 is the assembly's reading of a literal's digits (see
// literal_amd64.go) in Go, for the tests that turn useAVX2 on where
// there is no assembly.
func digits16(p *byte) (v uint64, intDigits, fracDigits int) {
	b := unsafe.Slice(p, 16)
	a := 0
	for a < 16 && b[a]-'0' <= 9 {
		v = v*10 + uint64(b[a]-'0')
		a++
	}
	if a == 16 {
		return 0, 16, 0
	}
	if b[a] != '.' {
		return v, a, -1
	}
	f := a + 1
	for f < 16 && b[f]-'0' <= 9 {
		v = v*10 + uint64(b[f]-'0')
		f++
	}
	if f == 16 {
		return 0, 16, 0
	}
	return v, a, f - a - 1
}

// ids3 is the assembly's three windows (see chars_amd64.go) in Go, for
// the tests that turn useAVX2 on where there is no assembly.
func ids3(p *byte, n *nibbleTables) (a, b, c uint32) {
	end := func(q *byte) uint32 { return uint32(bits.TrailingZeros64(uint64(unmarked32(q, n)) | 1<<32)) }
	a = end(p)
	q := unsafe.Add(unsafe.Pointer(p), a+10)
	b = end((*byte)(q))
	c = end((*byte)(unsafe.Add(q, b+8)))
	return a, b, c
}

// literal16 is literal16Go here: no assembly.
func literal16(p *byte, signed bool) (v int64, places, n int) { return literal16Go(p, signed) }
