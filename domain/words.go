package domain

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Eight bytes at a time: the posting reader's fixed literals, repeated
// strings and digits read as 64-bit words (in memory order, as
// binary.LittleEndian reads them) rather than a byte at a time. None of
// these states a rule of its own: a digit is '0' to '9', as every reader
// of numbers says, and a literal is the constant the caller gives.

const lsb = 0x0101010101010101

// word(b, i) is the eight bytes of b from i in memory order (as
// binary.LittleEndian reads them), which the caller has checked are in b
// (i+8 <= len(b)): no bounds check of its own. On amd64 (words_amd64.go)
// it is one unaligned load, the instruction binary.LittleEndian's
// compiles to, which the inliner counts as far cheaper; elsewhere
// (words_other.go) it is binary.LittleEndian's.

// byteAt is &b[i] without the bounds check, for the assembly's reads
// of a window the caller has checked is in b.
func byteAt(b []byte, i int) *byte {
	return (*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}

// strWord is the eight bytes of s from i, s a constant whose words the
// compiler folds where the call is inlined; the caller has checked that
// they are in s.
func strWord(s string, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i))[:])
}

// digitRun is the number of ASCII digits that x (eight bytes in memory
// order) starts with, 0 to 8, and x with each byte xor '0' (a digit's
// value where the byte is one). Per byte and exact: a byte is a digit
// when its xor with '0' is 0 to 9 (high nibble clear, and the low one
// plus 6 does not reach 16); no carry leaves a byte.
func digitRun(x uint64) (int, uint64) {
	return bits.TrailingZeros64(notDigits(x)) >> 3, x ^ lsb*'0'
}

// notDigits has bits set in exactly the bytes of x that are not ASCII
// digits (see digitRun).
func notDigits(x uint64) uint64 {
	t := x ^ lsb*'0'
	return t&(lsb*0xf0) | (t&(lsb*0x0f)+lsb*6)&(lsb*0x10)
}

// digitsValue is the value of the first n digits of t (digitRun's t and
// n, n from 1 to 8; for n = 0, which every caller refuses as no number,
// some value): moved to the word's top so that zeros lead them, then
// added up in pairs, fours and eights (the first digit, at the lowest
// address, the most significant).
func digitsValue(t uint64, n int) uint64 {
	y := t << ((64 - 8*uint(n)) & 63) // no shift by 64 to provide for
	y = (y*10 + y>>8) & 0x00ff00ff00ff00ff
	y = (y*100 + y>>16) & 0x0000ffff0000ffff
	return (y*10000 + y>>32) & 0xffffffff
}

// sameAt compares the characters and the closing quote of the string at
// i with s, an earlier string of the line: a word at a time (the last
// one ending where the string does), a string shorter than a word under
// a mask. It returns how they differ (not zero where b is too short),
// the string's span and where it ends.
func sameAt(b []byte, i int, s span) (uint64, span, int) {
	a, n := int(s.a), int(s.b-s.a)+1
	if len(b)-i < n+8 { // a word's load from the string's end
		return 1, span{}, i
	}
	var d uint64
	if n < 8 {
		d = (word(b, i) ^ word(b, a)) & (1<<(8*(n&7)) - 1)
	} else {
		for k := 0; k < n-8; k += 8 {
			d |= word(b, i+k) ^ word(b, a+k)
		}
		d |= word(b, i+n-8) ^ word(b, a+n-8)
	}
	return d, span{int32(i), int32(i + n - 1)}, i + n
}

// sameWords is sameAt's comparison for n bytes of 1 to 16 at i and a, b
// having room for two words from each (i+16 <= len(b), a < i): the
// first word from each start and the last up to each end, a string
// shorter than a word its first word shifted so that only its n bytes
// are left. Small enough to be inlined.
func sameWords(b []byte, i, a, n int) uint64 {
	x := word(b, i) ^ word(b, a)
	if n <= 8 {
		return x << ((64 - 8*n) & 63)
	}
	return x | (word(b, i+n-8) ^ word(b, a+n-8))
}

// lit compares the literal s (8 to maxLit bytes, a constant: its words
// are folded) with b from i, and returns how they differ (zero where
// they do not; not zero where b is too short) and where s ends: two word
// loads, the second ending where s ends.
func lit(b []byte, i int, s string) (diff uint64, end int) {
	if len(b)-i < maxLit {
		return 1, i
	}
	return (word(b, i) ^ strWord(s, 0)) | (word(b, i+len(s)-8) ^ strWord(s, len(s)-8)), i + len(s)
}

// litIn is lit where the caller has checked that b has maxLit bytes
// from i: no test of its own.
func litIn(b []byte, i int, s string) (diff uint64, end int) {
	return (word(b, i) ^ strWord(s, 0)) | (word(b, i+len(s)-8) ^ strWord(s, len(s)-8)), i + len(s)
}

// maxLit bounds the literals lit compares: two words. A line shorter
// than that from a literal is not a posting's, which goes on well past
// every literal (its prev_hash and hash).
const maxLit = 16
