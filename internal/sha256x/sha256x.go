// Package sha256x hashes two messages at once with SHA-256.
//
// On amd64 with the SHA extensions (SHA-NI) the two messages' rounds run
// interleaved in one instruction stream: each round instruction waits for
// the one before it in the same message, so a single message leaves the
// unit idle half the time and a second one fills it. Elsewhere, and when
// Fallback is set, each message goes through crypto/sha256.
//
// The messages are handed over padded (Pad), so that the assembly sees
// whole 64-byte blocks only and the caller decides where the bytes are
// assembled, once. The package imports the standard library only.
package sha256x

import (
	"crypto/sha256"
	"encoding/binary"
)

// Size is the length of a digest in bytes.
const Size = sha256.Size

// BlockSize is SHA-256's block length in bytes.
const BlockSize = sha256.BlockSize

// Fallback, when true, makes SumPadded2 use crypto/sha256 even where the
// two-lane assembly runs. It is for tests; set it before hashing.
var Fallback = false

// Accelerated reports whether this CPU runs the two-lane assembly.
func Accelerated() bool { return hasSHANI }

// PaddedLen is the length of an n-byte message once padded.
func PaddedLen(n int) int {
	return (n + 1 + 8 + BlockSize - 1) &^ (BlockSize - 1)
}

// Pad appends SHA-256's padding to msg, all of whose bytes are the
// message: a 0x80 byte, zeros, and the message's length in bits, up to a
// multiple of BlockSize. It reuses msg's spare capacity when there is
// enough (cap(msg) >= PaddedLen(len(msg))).
func Pad(msg []byte) []byte {
	n := len(msg)
	padded := PaddedLen(n)
	msg = append(msg, 0x80)
	msg = append(msg, zeros[:padded-8-n-1]...)
	return binary.BigEndian.AppendUint64(msg, uint64(n)<<3)
}

// zeros is the longest run of zeros padding needs (a 0x80 byte, up to 63
// zeros, 8 length bytes).
var zeros [BlockSize]byte

// messageLen reads the message length back from a padded message.
func messageLen(padded []byte) int {
	return int(binary.BigEndian.Uint64(padded[len(padded)-8:]) >> 3)
}

// checkPadded panics unless p is whole blocks whose length field fits them
// and whose message is followed by the 0x80 byte.
func checkPadded(p []byte) {
	if len(p) == 0 || len(p)%BlockSize != 0 || PaddedLen(messageLen(p)) != len(p) || p[messageLen(p)] != 0x80 {
		panic("sha256x: message not padded")
	}
}

// SumPadded2 returns the SHA-256 digests of two messages padded by Pad.
// It panics if either is not.
func SumPadded2(a, b []byte) (da, db [Size]byte) {
	checkPadded(a)
	checkPadded(b)
	if Fallback || !hasSHANI {
		return sha256.Sum256(a[:messageLen(a)]), sha256.Sum256(b[:messageLen(b)])
	}
	return sum2(a, b)
}

// SumPadded returns the SHA-256 digest of one message padded by Pad, for
// a message without a partner: the assembly's one-lane path. It panics if
// the message is not padded.
func SumPadded(p []byte) [Size]byte {
	checkPadded(p)
	if Fallback || !hasSHANI {
		return sha256.Sum256(p[:messageLen(p)])
	}
	return sum1(p)
}

// Sum2 returns the SHA-256 digests of a and b. It copies both to pad them;
// callers that hash many pairs assemble padded messages themselves and
// call SumPadded2.
func Sum2(a, b []byte) (da, db [Size]byte) {
	pa := make([]byte, len(a), PaddedLen(len(a)))
	pb := make([]byte, len(b), PaddedLen(len(b)))
	copy(pa, a)
	copy(pb, b)
	return SumPadded2(Pad(pa), Pad(pb))
}

// initial is SHA-256's initial hash value (FIPS 180-4, 5.3.3).
var initial = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// digest writes a final state as a big-endian digest.
func digest(s *[8]uint32) (d [Size]byte) {
	for i, w := range s {
		binary.BigEndian.PutUint32(d[4*i:], w)
	}
	return d
}
