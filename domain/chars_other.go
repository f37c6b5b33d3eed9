//go:build !amd64

package domain

import "unsafe"

// hasAVX2: no assembly here.
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
