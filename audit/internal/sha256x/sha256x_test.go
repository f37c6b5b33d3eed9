package sha256x_test

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"github.com/nats-ledger/ledger/audit/internal/sha256x"
)

// maxLen is the longest body the differential tests hash in each lane.
const maxLen = 2000

// randomBytes returns n bytes of a fixed pseudo-random sequence.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// message cuts a message out of random bytes: a head of h bytes, a body
// of n bytes starting off bytes into its buffer (so that the assembly
// reads it at every alignment), a tail of t bytes.
func message(seed uint64, h, n, t, off int) sha256x.Message {
	buf := randomBytes(seed, h+off+n+t)
	return sha256x.Message{Head: buf[:h], Body: buf[h+off : h+off+n], Tail: buf[h+off+n:]}
}

func concat(m sha256x.Message) []byte {
	return bytes.Join([][]byte{m.Head, m.Body, m.Tail}, nil)
}

// paths runs f once on the two-lane assembly (where this CPU has it) and
// once on the crypto/sha256 fallback.
func paths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	t.Run("default", f)
	t.Run("fallback", func(t *testing.T) {
		sha256x.Fallback = true
		t.Cleanup(func() { sha256x.Fallback = false })
		f(t)
	})
}

// sinkA and sinkB are where check has Sum2To write, kept from one check
// to the next.
var sinkA, sinkB [sha256x.Size]byte

// shared is the Hasher that check reuses from one call to the next.
var shared sha256x.Hasher

// check hashes a and b together (Sum2, and a Hasher reused over every
// check) and each alone (Sum), and compares all with crypto/sha256 of the
// concatenated pieces.
func check(t *testing.T, a, b sha256x.Message) {
	t.Helper()
	wantA, wantB := sha256.Sum256(concat(a)), sha256.Sum256(concat(b))
	gotA, gotB := sha256x.Sum2(a, b)
	if gotA != wantA || gotB != wantB {
		t.Fatalf("Sum2 of %d+%d+%d bytes and %d+%d+%d bytes = %x, %x; want %x, %x",
			len(a.Head), len(a.Body), len(a.Tail), len(b.Head), len(b.Body), len(b.Tail), gotA, gotB, wantA, wantB)
	}
	if gotA, gotB = shared.Sum2(&a, &b); gotA != wantA || gotB != wantB {
		t.Fatalf("Hasher.Sum2 of %d+%d+%d bytes and %d+%d+%d bytes = %x, %x; want %x, %x",
			len(a.Head), len(a.Body), len(a.Tail), len(b.Head), len(b.Body), len(b.Tail), gotA, gotB, wantA, wantB)
	}
	// Sum2To, into digests that hold the last check's (or garbage).
	sinkA[0], sinkB[31] = ^sinkA[0], ^sinkB[31]
	if shared.Sum2To(&sinkA, &sinkB, &a, &b); sinkA != wantA || sinkB != wantB {
		t.Fatalf("Hasher.Sum2To of %d+%d+%d bytes and %d+%d+%d bytes = %x, %x; want %x, %x",
			len(a.Head), len(a.Body), len(a.Tail), len(b.Head), len(b.Body), len(b.Tail), sinkA, sinkB, wantA, wantB)
	}
	if got := sha256x.Sum(a); got != wantA {
		t.Fatalf("Sum of %d+%d+%d bytes = %x, want %x", len(a.Head), len(a.Body), len(a.Tail), got, wantA)
	}
}

// TestSum2EveryLength hashes every body length from 0 to maxLen in each
// lane, at every alignment and with heads and tails of every length from
// 0 to a block, against another length in the other lane (shorter,
// longer and equal, so that either lane ends first or both together).
func TestSum2EveryLength(t *testing.T) {
	paths(t, func(t *testing.T) {
		for n := 0; n <= maxLen; n++ {
			a := message(uint64(n), n%65, n, (n*7)%65, n%64)
			for i, m := range []int{n, maxLen - n, (n*7 + 13) % (maxLen + 1), n + 64, max(n-64, 0)} {
				b := message(uint64(n*5+i+maxLen), (n+m)%65, m, (m*3)%65, (n*5+m)%64)
				check(t, a, b)
				check(t, b, a)
			}
		}
	})
}

// TestSum2EveryCut crosses every head and tail length up to a block with
// bodies around every block boundary up to three blocks, in both lanes:
// wherever the pieces meet, the blocks are cut right.
func TestSum2EveryCut(t *testing.T) {
	var bodies []int
	for _, edge := range []int{0, 64, 128, 192} {
		for d := -2; d <= 2; d++ {
			if edge+d >= 0 {
				bodies = append(bodies, edge+d)
			}
		}
	}
	bodies = append(bodies, 31, 32, 33, 546)
	paths(t, func(t *testing.T) {
		other := message(99, 32, 546, 1, 3)
		for h := 0; h <= sha256x.BlockSize; h++ {
			for tl := 0; tl <= sha256x.BlockSize; tl++ {
				for _, n := range bodies {
					m := message(uint64(h*1000+tl), h, n, tl, h%8)
					check(t, m, other)
					check(t, other, m)
				}
			}
		}
	})
}

// TestSum2LanesIndependent changes one lane's message a byte at a time and
// checks that the other lane's digest does not move.
func TestSum2LanesIndependent(t *testing.T) {
	a := message(5, 32, 546, 1, 0)
	want := sha256.Sum256(concat(a))
	b := message(6, 32, 546, 1, 0)
	for _, piece := range [][]byte{b.Head, b.Body, b.Tail} {
		for i := range piece {
			piece[i] ^= 0x5a
			wantB := sha256.Sum256(concat(b))
			gotA, gotB := sha256x.Sum2(a, b)
			if gotA != want || gotB != wantB {
				t.Fatalf("lane b changed: lane a %x (want %x), lane b %x (want %x)", gotA, want, gotB, wantB)
			}
			gotB, gotA = sha256x.Sum2(b, a)
			if gotA != want || gotB != wantB {
				t.Fatalf("lane a changed: lane b %x (want %x), lane a %x (want %x)", gotA, want, gotB, wantB)
			}
		}
	}
}

// TestLongHeadOrTailPanics: a head or tail longer than a block is refused
// rather than hashed wrong, on both paths.
func TestLongHeadOrTailPanics(t *testing.T) {
	long := make([]byte, sha256x.BlockSize+1)
	ok := sha256x.Message{Body: []byte("abc")}
	paths(t, func(t *testing.T) {
		for name, m := range map[string]sha256x.Message{"head": {Head: long}, "tail": {Tail: long}} {
			for fn, call := range map[string]func(){
				"Sum2 a": func() { sha256x.Sum2(m, ok) },
				"Sum2 b": func() { sha256x.Sum2(ok, m) },
				"Sum":    func() { sha256x.Sum(m) },
			} {
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%s with a %d-byte %s did not panic", fn, len(long), name)
						}
					}()
					call()
				}()
			}
		}
	})
}

// FuzzSum2 compares both lanes with crypto/sha256 on any two messages,
// cut into pieces anywhere.
func FuzzSum2(f *testing.F) {
	f.Add([]byte(""), []byte("abc"), uint8(0), uint8(0), uint8(0))
	f.Add(make([]byte, 55), make([]byte, 56), uint8(1), uint8(2), uint8(3))
	f.Add(make([]byte, 579), make([]byte, 1000), uint8(32), uint8(1), uint8(63))
	f.Fuzz(func(t *testing.T, a, b []byte, h, tl, off uint8) {
		cut := func(p []byte, h, t int) sha256x.Message {
			h, t = min(h%65, len(p)), min(t%65, len(p))
			if h+t > len(p) {
				t = len(p) - h
			}
			return sha256x.Message{Head: p[:h], Body: p[h : len(p)-t], Tail: p[len(p)-t:]}
		}
		ma, mb := cut(a, int(h), int(tl)), cut(b, int(tl), int(off))
		check(t, ma, mb)
		sha256x.Fallback = true
		defer func() { sha256x.Fallback = false }()
		check(t, ma, mb)
	})
}

// TestHasherReused hashes pairs of every shape through one Hasher, one
// after the other, so that each pair's blocks are assembled over what the
// pairs before it left: a hash chain's shape (a 32-byte head, a body of
// 96 bytes or more, a tail of up to 56 bytes, planned with fixed-size
// copies), next to it (bodies of 94 to 97 bytes, tails of 55 to 58) and
// any other shape, at every alignment, in both lanes; every digest is
// crypto/sha256's.
func TestHasherReused(t *testing.T) {
	var h sha256x.Hasher
	paths(t, func(t *testing.T) {
		for n := 0; n <= 700; n++ {
			for _, tl := range []int{0, 1, 2, 55, 56, 57, 58, 64} {
				a := message(uint64(n*100+tl), 32, n, tl, (n+tl)%64)
				b := message(uint64(n*100+tl+7), (n*3)%65, (n*7)%701, (n+tl)%65, n%64)
				if n%3 == 0 {
					b = message(uint64(n*100+tl+9), 32, max(n-65+tl, 0), 1, tl%64)
				}
				for _, pair := range [][2]sha256x.Message{{a, b}, {b, a}, {a, a}} {
					wantA, wantB := sha256.Sum256(concat(pair[0])), sha256.Sum256(concat(pair[1]))
					gotA, gotB := h.Sum2(&pair[0], &pair[1])
					if gotA != wantA || gotB != wantB {
						t.Fatalf("Hasher.Sum2 of %d+%d+%d bytes and %d+%d+%d bytes = %x, %x; want %x, %x",
							len(pair[0].Head), len(pair[0].Body), len(pair[0].Tail), len(pair[1].Head), len(pair[1].Body), len(pair[1].Tail),
							gotA, gotB, wantA, wantB)
					}
				}
			}
		}
	})
}

// TestSum2ChainShapes hashes messages of a hash chain's shape (a 32-byte
// head, a body, a short tail: the audit's lines) whose whole lengths run
// over every block edge from 0 to 9 blocks (55, 56, 63, 64, 119, 120
// bytes, ...) in each lane, against partners of every length near it and
// far from it, so that either lane has more blocks, or both as many.
func TestSum2ChainShapes(t *testing.T) {
	paths(t, func(t *testing.T) {
		for total := 33; total <= 9*64+1; total++ {
			for _, tl := range []int{0, 1, 9, 56} {
				n := total - 32 - tl
				if n < 0 {
					continue
				}
				a := message(uint64(total), 32, n, tl, total%16)
				for _, d := range []int{-130, -65, -64, -9, -8, -1, 0, 1, 8, 9, 64, 65, 130} {
					if m := n + d; m >= 0 {
						check(t, a, message(uint64(total+d)<<8, 32, m, 1, d&15))
						check(t, message(uint64(total+d)<<9, 32, m, 1, 0), a)
					}
				}
			}
		}
	})
}
