package domain

import "encoding/binary"

// Hashes in lower-case hex, eight digits at a time: every stored line
// holds two (its prev_hash, compared with the hash before it, and its own,
// decoded), and a byte at a time they cost more than the rest of the line.

// hexOf reports whether h is prev in the lower-case hex that AppendEvent
// writes (hexEqual: in assembly on amd64, hexOfGo elsewhere).
func hexOf(h []byte, prev *Hash) bool {
	if len(h) != 2*HashSize {
		return false
	}
	return hexEqual((*[2 * HashSize]byte)(h), prev)
}

// hexOfGo is hexOf's definition: each four bytes of prev spelt by
// hexPairs and compared with eight digits of h.
func hexOfGo(h *[2 * HashSize]byte, prev *Hash) bool {
	var diff uint64
	for k := 0; k < HashSize/4; k++ {
		q := (*[4]byte)(prev[4*k : 4*k+4])
		w := uint64(hexPairs[q[0]]) | uint64(hexPairs[q[1]])<<16 | uint64(hexPairs[q[2]])<<32 | uint64(hexPairs[q[3]])<<48
		diff |= binary.LittleEndian.Uint64(h[8*k:8*k+8]) ^ w
	}
	return diff == 0
}

// hexPairs holds each byte's two lower-case hex digits, as hex8 spells
// them (in memory order): four loads spell four bytes, where hex8 takes
// some twenty operations.
var hexPairs = func() (t [256]uint16) {
	for c := range t {
		t[c] = uint16(hex8(uint32(c)))
	}
	return t
}()

// hex8 is the eight lower-case hex digits of the four bytes of u (in
// memory order, as binary.LittleEndian reads them), in memory order.
func hex8(u uint32) uint64 {
	const lsb = 0x0101010101010101
	// One byte of u a 16-bit lane, then its high nibble in the lane's
	// first byte and its low one in the second.
	x := uint64(u)
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff
	n := x>>4&0x000f000f000f000f | (x&0x000f000f000f000f)<<8
	// '0' + n, and 'a'-'0'-10 more where n > 9 (n + 6 carries into bit 4).
	return n + lsb*'0' + (n+lsb*6)>>4&lsb*('a'-'0'-10)
}

// parseLowerHex decodes 64 lower-case hex digits, and only those: the form
// in which hashes are stored, so that a hash has one spelling (unhexLower:
// in assembly on amd64, parseLowerHexGo elsewhere).
func parseLowerHex(b []byte) (Hash, bool) {
	var h Hash
	if len(b) != 2*HashSize {
		return h, false
	}
	if !unhexLower((*[2 * HashSize]byte)(b), &h) {
		return Hash{}, false
	}
	return h, true
}

// parseLowerHexGo is parseLowerHex's definition: each eight digits are
// decoded as if they were hex and encoded again, and only lower-case hex
// comes back as it was. h is written whatever hb holds.
func parseLowerHexGo(hb *[2 * HashSize]byte, h *Hash) bool {
	var diff uint64
	for k := 0; k < HashSize/4; k++ {
		x := binary.LittleEndian.Uint64(hb[8*k : 8*k+8])
		u := unhex8(x)
		binary.LittleEndian.PutUint32(h[4*k:4*k+4], u)
		diff |= hex8(u) ^ x
	}
	return diff == 0
}

// unhex8 is the four bytes whose lower-case hex digits are x (as hex8
// writes them); for any other x, some four bytes whose digits are not x.
func unhex8(x uint64) uint32 {
	const lsb = 0x0101010101010101
	// A digit's value is its low nibble, plus 9 for a letter (bit 6 set).
	n := x&(lsb*0xf) + (x>>6&lsb)*9
	// Each lane's two nibbles to one byte, then the lanes' bytes together.
	n = (n&0x00ff00ff00ff00ff)<<4 | n>>8&0x00ff00ff00ff00ff
	n &= 0x00ff00ff00ff00ff
	n = (n | n>>8) & 0x0000ffff0000ffff
	n = (n | n>>16) & 0x00000000ffffffff
	return uint32(n)
}
