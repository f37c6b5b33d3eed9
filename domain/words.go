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

// word is the eight bytes of b from i, which the caller has checked are
// in b (i+8 <= len(b)): no bounds check of its own.
func word(b []byte, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))[:])
}

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
