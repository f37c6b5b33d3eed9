package domain

import (
	"math/bits"
	"os"
	"strings"
	"unsafe"
)

// The id and asset characters, 32 bytes at a time where the CPU has AVX2
// (chars_amd64.s): each byte's class looked up by its low and its high
// nibble in two 16-entry tables and the two and-ed, so that a byte is
// marked where they share a bit. The tables are built from idChars and
// codeChars, which stay the rule: nibblesOf builds them only for a table
// that two nibbles can express exactly, and checks at init that the
// classifier reproduces the table for every byte; where either fails, the
// Go path (one table load a byte) reads those characters.

// nibbleTables are a byte table as two nibble lookups: lo[c&15] &
// hi[c>>4] is not zero exactly where the table marks c. Each is held
// twice, once for each 16-byte lane of a 32-byte register (VPSHUFB looks
// up within a lane). ok: the tables are exact and the classifier may
// be used.
type nibbleTables struct {
	lo, hi [32]byte
	ok     bool
}

// useAVX2 reports whether charsAt classifies with the assembly: the CPU
// has AVX2 and the OS saves its registers, and GODEBUG does not turn it
// off (cpu.avx2=off or cpu.all=off, as for the standard library's own
// assembly). The tests set it to run both paths.
var useAVX2 = hasAVX2() && !godebugOff(os.Getenv("GODEBUG"))

// godebugOff reports whether the GODEBUG value turns AVX2 off.
func godebugOff(s string) bool {
	for _, f := range strings.Split(s, ",") {
		if f == "cpu.avx2=off" || f == "cpu.all=off" {
			return true
		}
	}
	return false
}

var (
	idNibbles   = nibblesOf(&idChars)
	codeNibbles = nibblesOf(&codeChars)
)

// nibblesOf builds t's nibble tables: each high nibble's row (the low
// nibbles it marks) gets a bit of its own, one for each distinct row
// that is not empty, which needs at most eight distinct rows (else ok is
// false); a low nibble's entry holds the bits of the rows that mark it.
// The result is checked against t for all 256 bytes, with the assembly
// where it runs.
func nibblesOf(t *[256]bool) (n nibbleTables) {
	var rows [16]uint16
	for c := range t {
		if t[c] {
			rows[c>>4] |= 1 << (c & 15)
		}
	}
	var distinct []uint16 // at most 16: the rows
	for h, r := range rows {
		if r == 0 {
			continue
		}
		k := 0
		for k < len(distinct) && distinct[k] != r {
			k++
		}
		if k == len(distinct) {
			if k == 8 {
				return nibbleTables{}
			}
			distinct = append(distinct, r)
		}
		n.hi[h], n.hi[h+16] = 1<<k, 1<<k
		for l := 0; l < 16; l++ {
			if r&(1<<l) != 0 {
				n.lo[l] |= 1 << k
				n.lo[l+16] |= 1 << k
			}
		}
	}
	n.ok = n.agrees(t)
	return n
}

// agrees reports whether the nibble tables mark what t marks for every
// byte: in Go, and with the assembly where it runs (all 256 bytes in
// eight windows of 32).
func (n *nibbleTables) agrees(t *[256]bool) bool {
	var all [256]byte
	for c := range all {
		all[c] = byte(c)
		if (n.lo[c&15]&n.hi[c>>4] != 0) != t[c] {
			return false
		}
	}
	if !hasAVX2() {
		return true
	}
	for w := 0; w < 256; w += 32 {
		var want uint32
		for k := 0; k < 32; k++ {
			if !t[w+k] {
				want |= 1 << k
			}
		}
		if unmarked32(&all[w], n) != want {
			return false
		}
	}
	return true
}

// charsAt reads from i the bytes that t marks, none of which needs an
// escape, up to the first that it does not (the string's closing quote,
// which the literal after the string begins with), and returns where
// they end. With AVX2 and n (t's nibble tables) exact, 32 bytes a step
// while the line has them; otherwise, and for the line's last bytes,
// eight bytes a step: their marks gathered in a byte, whose lowest
// clear bit is the first byte not marked.
func charsAt(b []byte, i int, t *[256]bool, n *nibbleTables) int {
	if useAVX2 && n.ok {
		for len(b)-i >= 32 {
			if m := unmarked32((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i)), n); m != 0 {
				return i + bits.TrailingZeros32(m)
			}
			i += 32
		}
	}
	u := (*[256]uint8)(unsafe.Pointer(t)) // a bool is a byte, 0 or 1
	for len(b)-i >= 8 {
		x := (*[8]byte)(b[i : i+8])
		m := u[x[0]] | u[x[1]]<<1 | u[x[2]]<<2 | u[x[3]]<<3 | u[x[4]]<<4 | u[x[5]]<<5 | u[x[6]]<<6 | u[x[7]]<<7
		if m != 0xff {
			return i + bits.TrailingZeros8(^m)
		}
		i += 8
	}
	for i < len(b) && t[b[i]] { // the line's last bytes
		i++
	}
	return i
}
