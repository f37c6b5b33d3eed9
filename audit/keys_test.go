package audit

import (
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPackCodeOneToOne: two strings of 1 to 16 bytes pack alike exactly
// when they are equal: every string against itself, a copy of itself,
// each of its one-byte changes, and strings one byte longer or shorter;
// longer and empty strings are not packed.
func TestPackCodeOneToOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= maxPackedCode+2; n++ {
		for range 50 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			s := string(b)
			p, ok := packCode(s)
			if ok != (n >= 1 && n <= maxPackedCode) {
				t.Fatalf("packCode(%q): ok %v", s, ok)
			}
			if !ok {
				if p != (packedCode{}) {
					t.Fatalf("packCode(%q) = %v, not packed but not zero", s, p)
				}
				continue
			}
			if p == (packedCode{}) {
				t.Fatalf("packCode(%q) is the zero packedCode", s)
			}
			if q, _ := packCode(strings.Clone(s)); q != p {
				t.Fatalf("packCode(%q) differs for a copy: %v, %v", s, p, q)
			}
			for i := range n {
				for _, c := range []byte{b[i] ^ 1, b[i] ^ 0x80, byte(rng.Uint32()) | 1} {
					if c == b[i] {
						continue
					}
					o := []byte(s)
					o[i] = c
					if q, _ := packCode(string(o)); q == p {
						t.Fatalf("packCode(%q) = packCode(%q) = %v", s, o, p)
					}
				}
			}
			if q, ok := packCode(s + "A"); ok && q == p {
				t.Fatalf("packCode(%q) = packCode(%q+A)", s, s)
			}
			if q, ok := packCode(s[:n-1]); ok && q == p {
				t.Fatalf("packCode(%q) = packCode of its prefix", s)
			}
		}
	}
}

// TestWorkerKeysAgreeWithKeyOf: the keys a worker sets for a posting
// (checker.assetKeyOf, from its last code or anew; keyInto through
// idhash) are keyOf's, the books' definition, for
// codes and ids of every length, repeated, alternating and changed in
// one byte, including codes longer than packCode takes.
func TestWorkerKeysAgreeWithKeyOf(t *testing.T) {
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	c := newChecker(&seeds, true)
	rng := rand.New(rand.NewPCG(5, 6))
	codes := []string{"BENCH", "USD", "EUR", "X", "AB", "ABC", "ABCD", "ABCDEFG", "ABCDEFGH", "ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOPQ", "", "BENCI", "CENCH"}
	for i := range 5000 {
		code := codes[rng.IntN(len(codes))]
		if rng.IntN(4) == 0 {
			code = codes[i%len(codes)]
		}
		code = strings.Clone(code) // a view of another line each time
		var k idKey
		c.assetKeyOf(&k, code, c.hashSeedsOf())
		if want := keyOf(&seeds, code); k != want {
			t.Fatalf("posting %d: assetKeyOf(%q) = %x, keyOf = %x", i, code, k, want)
		}
		id := strings.Repeat("acc-", rng.IntN(40)) + code
		keyInto(&k, c.hashSeedsOf(), id)
		if want := keyOf(&seeds, id); k != want {
			t.Fatalf("keyInto(%q) = %x, keyOf = %x", id, k, want)
		}
	}
}
