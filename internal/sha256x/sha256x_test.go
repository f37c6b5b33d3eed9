package sha256x_test

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"github.com/nats-ledger/ledger/internal/sha256x"
)

// maxLen is the longest message the differential tests hash in each lane.
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

// paddedAt returns msg padded by sha256x.Pad, placed off bytes into a
// larger buffer, so that the assembly reads it at every alignment.
func paddedAt(msg []byte, off int) []byte {
	buf := make([]byte, off, off+sha256x.PaddedLen(len(msg)))
	buf = append(buf, msg...)
	return sha256x.Pad(buf[off:])
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

// check hashes a and b, each at its own alignment, with SumPadded2,
// SumPadded and Sum2, and compares all with crypto/sha256.
func check(t *testing.T, a, b []byte, offA, offB int) {
	t.Helper()
	wantA, wantB := sha256.Sum256(a), sha256.Sum256(b)
	gotA, gotB := sha256x.SumPadded2(paddedAt(a, offA), paddedAt(b, offB))
	if gotA != wantA || gotB != wantB {
		t.Fatalf("SumPadded2 of %d bytes (at %d) and %d bytes (at %d) = %x, %x; want %x, %x",
			len(a), offA, len(b), offB, gotA, gotB, wantA, wantB)
	}
	if got := sha256x.SumPadded(paddedAt(b, offA)); got != wantB {
		t.Fatalf("SumPadded of %d bytes (at %d) = %x, want %x", len(b), offA, got, wantB)
	}
	if gotA, gotB := sha256x.Sum2(a, b); gotA != wantA || gotB != wantB {
		t.Fatalf("Sum2 of %d and %d bytes = %x, %x; want %x, %x", len(a), len(b), gotA, gotB, wantA, wantB)
	}
}

// TestSum2EveryLength hashes every length from 0 to maxLen in each lane,
// against another length and alignment in the other lane (shorter,
// longer and equal, so that either lane ends first or both together).
func TestSum2EveryLength(t *testing.T) {
	paths(t, func(t *testing.T) {
		data := randomBytes(1, 2*maxLen+1)
		other := randomBytes(2, 2*maxLen+1)
		for n := 0; n <= maxLen; n++ {
			a := data[n : 2*n]
			for _, m := range []int{n, maxLen - n, (n*7 + 13) % (maxLen + 1), n + 64, max(n-64, 0)} {
				b := other[:m]
				check(t, a, b, n%64, (n*5+m)%64)
				check(t, b, a, (n*3)%64, m%64)
			}
		}
	})
}

// TestSum2EveryPairOfShortLengths crosses every pair of lengths up to four
// blocks and a half, in both lanes.
func TestSum2EveryPairOfShortLengths(t *testing.T) {
	const most = 4*sha256x.BlockSize + 32
	paths(t, func(t *testing.T) {
		a, b := randomBytes(3, most), randomBytes(4, most)
		for n := 0; n <= most; n++ {
			for m := 0; m <= most; m++ {
				check(t, a[:n], b[:m], m%64, n%64)
			}
		}
	})
}

// TestSum2LanesIndependent changes one lane's message a byte at a time and
// checks that the other lane's digest does not move.
func TestSum2LanesIndependent(t *testing.T) {
	a := randomBytes(5, 546)
	want := sha256.Sum256(a)
	b := randomBytes(6, 546)
	for i := range b {
		b[i] ^= 0x5a
		gotA, gotB := sha256x.Sum2(a, b)
		if gotA != want || gotB != sha256.Sum256(b) {
			t.Fatalf("byte %d of lane b flipped: lane a %x (want %x), lane b %x", i, gotA, want, gotB)
		}
		gotB, gotA = sha256x.Sum2(b, a)
		if gotA != want || gotB != sha256.Sum256(b) {
			t.Fatalf("byte %d of lane a flipped: lane b %x (want %x), lane a %x", i, gotA, want, gotB)
		}
	}
}

// TestPad checks the padding against its definition: the message, 0x80,
// zeros, and the bit length, to a whole number of blocks, in the spare
// capacity when there is enough.
func TestPad(t *testing.T) {
	for n := 0; n <= 3*sha256x.BlockSize; n++ {
		msg := make([]byte, n, sha256x.PaddedLen(n))
		p := sha256x.Pad(msg)
		if len(p)%sha256x.BlockSize != 0 || len(p) < n+9 || len(p) >= n+9+sha256x.BlockSize {
			t.Fatalf("Pad of %d bytes is %d bytes", n, len(p))
		}
		if &p[0] != &msg[:1][0] {
			t.Fatalf("Pad of %d bytes with room for the padding reallocated", n)
		}
		if p[n] != 0x80 {
			t.Fatalf("Pad of %d bytes: byte %d is %#x, want 0x80", n, n, p[n])
		}
		for i := n + 1; i < len(p)-8; i++ {
			if p[i] != 0 {
				t.Fatalf("Pad of %d bytes: byte %d is %#x, want 0", n, i, p[i])
			}
		}
		var bits uint64
		for _, c := range p[len(p)-8:] {
			bits = bits<<8 | uint64(c)
		}
		if bits != uint64(8*n) {
			t.Fatalf("Pad of %d bytes: length field %d, want %d", n, bits, 8*n)
		}
	}
}

// TestSumPaddedRefusesUnpadded: a message that is not whole blocks, or
// whose length field does not fit its blocks, panics rather than hashing
// bytes the caller did not mean.
func TestSumPaddedRefusesUnpadded(t *testing.T) {
	good := sha256x.Pad([]byte("abc"))
	long := sha256x.Pad(make([]byte, 100))
	for name, bad := range map[string][]byte{
		"empty":         nil,
		"not blocks":    good[:63],
		"length beyond": append(append([]byte{}, good[:56]...), 0, 0, 0, 0, 0, 0, 2, 0),
		"extra block":   append(append([]byte{}, make([]byte, 64)...), good...),
		"unpadded 64":   make([]byte, 64),
	} {
		for fn, call := range map[string]func(){
			"SumPadded2 a": func() { sha256x.SumPadded2(bad, long) },
			"SumPadded2 b": func() { sha256x.SumPadded2(long, bad) },
			"SumPadded":    func() { sha256x.SumPadded(bad) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s of %s did not panic", fn, name)
					}
				}()
				call()
			}()
		}
	}
}

// FuzzSum2 compares both lanes with crypto/sha256 on any two messages.
func FuzzSum2(f *testing.F) {
	f.Add([]byte(""), []byte("abc"), uint8(0))
	f.Add(make([]byte, 55), make([]byte, 56), uint8(1))
	f.Add(make([]byte, 546), make([]byte, 1000), uint8(63))
	f.Fuzz(func(t *testing.T, a, b []byte, off uint8) {
		check(t, a, b, int(off%64), int(off/4%64))
	})
}
