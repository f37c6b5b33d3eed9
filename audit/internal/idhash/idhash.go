// Package idhash computes hash/maphash.String's hash of a string with
// the runtime's hash function called directly, for a caller that hashes
// many short strings with the same seeds: maphash.String checks its
// seed and goes through two more functions before it reaches the
// runtime's hash (runtime.memhash, AES-based where the CPU has AES), and
// on a 10-byte id those calls cost twice the hash itself.
//
// The value is maphash.String's, bit for bit (TestSumAgreesWithMaphash):
// the same function of the same bytes, with the same seed and the
// runtime's same per-process key. Nothing about its strength changes; a
// caller that relied on maphash's keyed hashing still does. Built with
// the purego tag, hash/maphash hashes in plain Go, not with the runtime's
// hash, and Sum2 then calls maphash.String itself (memhash_purego.go;
// `make test-purego`).
package idhash

import (
	"hash/maphash"
	"unsafe"
)

// Seed is a maphash.Seed with its value read out once (Of).
type Seed struct {
	seed  maphash.Seed
	value uintptr // maphash.String(seed, ""): the seed's own value
}

// Of returns s, ready for Sum2.
func Of(s maphash.Seed) Seed {
	// maphash.String of the empty string is the seed's value itself: the
	// state maphash.String hands the runtime's hash.
	return Seed{seed: s, value: uintptr(maphash.String(s, ""))}
}

// maxDirect is the longest string Sum2 hashes with one call of the
// runtime's hash: maphash.String hashes a longer one in pieces of 128
// bytes (its bufSize), each piece's hash the seed of the next, and Sum2
// leaves those to it.
const maxDirect = 128

// Sum2 sets k[0] and k[1] to maphash.String(s[0]'s seed, id) and
// maphash.String(s[1]'s seed, id), each word in place: one call for the
// two words of a key.
func Sum2(k *[2]uint64, s *[2]Seed, id string) {
	if n := len(id); direct && uint(n-1) < maxDirect {
		p := unsafe.Pointer(unsafe.StringData(id))
		k[0] = uint64(memhash(p, s[0].value, uintptr(n)))
		k[1] = uint64(memhash(p, s[1].value, uintptr(n)))
		return
	}
	k[0], k[1] = other(&s[0], id), other(&s[1], id)
}

// Sum2x3 sets a, b and c as Sum2(a, s, x), Sum2(b, s, y) and
// Sum2(c, s, z) would, in one call: a posting's transfer id and its two
// accounts. Its six hashes are the runtime's, with the same seeds, so the
// values are Sum2's exactly (TestSum2x3AgreesWithSum2); one call saves
// two calls' frames and reads the seeds once.
func Sum2x3(a, b, c *[2]uint64, s *[2]Seed, x, y, z string) {
	if !direct || uint(len(x)-1) >= maxDirect || uint(len(y)-1) >= maxDirect || uint(len(z)-1) >= maxDirect {
		Sum2(a, s, x)
		Sum2(b, s, y)
		Sum2(c, s, z)
		return
	}
	s0, s1 := s[0].value, s[1].value
	p, n := unsafe.Pointer(unsafe.StringData(x)), uintptr(len(x))
	a[0], a[1] = uint64(memhash(p, s0, n)), uint64(memhash(p, s1, n))
	p, n = unsafe.Pointer(unsafe.StringData(y)), uintptr(len(y))
	b[0], b[1] = uint64(memhash(p, s0, n)), uint64(memhash(p, s1, n))
	p, n = unsafe.Pointer(unsafe.StringData(z)), uintptr(len(z))
	c[0], c[1] = uint64(memhash(p, s0, n)), uint64(memhash(p, s1, n))
}

// other is maphash.String of the empty string (whose hash is the seed), of longer
// ids, and on 32-bit platforms.
func other(s *Seed, id string) uint64 { return maphash.String(s.seed, id) }
