package domain_test

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// TestLowerHex holds the eight-digits-at-a-time hex of hashes to
// encoding/hex: a stored hash parses exactly when it is 64 lower-case hex
// digits, to the bytes they spell, and a prev_hash is a hash's hex
// exactly when it is byte for byte its lower-case encoding; with every
// byte value at every position; HexOf (in assembly on amd64: AVX2, or
// SSE2 under GODEBUG=cpu.avx2=off) and its Go
// definition alike, for random hashes and for the hashes that hold every byte value
// (each nibble at 9 and 10, where a digit turns into a letter).
func TestLowerHex(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := range 200 + 8 {
		var h domain.Hash
		for i := range h {
			h[i] = byte(rng.IntN(256))
			if n >= 200 {
				h[i] = byte(32*(n-200) + i)
			}
		}
		text := []byte(h.String())
		for pos := range text {
			for c := range 256 {
				b := []byte(string(text))
				b[pos] = byte(c)
				got, ok := domain.ParseLowerHex(b)
				want, err := hex.DecodeString(string(b))
				lower := strings.ToLower(string(b)) == string(b)
				if ok != (err == nil && lower) || ok && string(got[:]) != string(want) {
					t.Fatalf("ParseLowerHex(%s) = %x, %v; encoding/hex: %x, %v", b, got, ok, want, err)
				}
				if gogot, gook := domain.ParseLowerHexGo(b); gook != ok || gogot != got {
					t.Fatalf("ParseLowerHexGo(%s) = %x, %v; ParseLowerHex: %x, %v", b, gogot, gook, got, ok)
				}
				if domain.HexOf(b, &h) != (string(b) == h.String()) {
					t.Fatalf("HexOf(%s, %s) = %v", b, h, !(string(b) == h.String()))
				}
				if domain.HexOfGo(b, &h) != (string(b) == h.String()) {
					t.Fatalf("HexOfGo(%s, %s) = %v", b, h, !(string(b) == h.String()))
				}
			}
			if n >= 20 && n < 200 {
				break // every position of 20 hashes and of the 8 made of every byte, the first of the rest
			}
		}
	}
	if _, ok := domain.ParseLowerHex([]byte(strings.Repeat("0", 63))); ok {
		t.Fatal("ParseLowerHex took 63 digits")
	}
}

// TestParseLowerHexAgrees holds parseLowerHex (in assembly on amd64) to
// its Go definition and to encoding/hex on hostile digits: two bytes
// changed at once anywhere (every pair of positions within and across
// the 16-digit runs the assembly reads), to every byte next to a digit
// or letter's edges and to random ones.
func TestParseLowerHexAgrees(t *testing.T) {
	edges := []byte{0, '/', '0', '9', ':', '@', 'A', 'F', 'G', '`', 'a', 'f', 'g', 0x7f, 0x80, 0xb0, 0xe1, 0xff}
	rng := rand.New(rand.NewPCG(9, 10))
	var h domain.Hash
	for i := range h {
		h[i] = byte(rng.IntN(256))
	}
	text := []byte(h.String())
	for p := range text {
		for q := p; q < len(text); q++ {
			for _, c := range edges {
				b := []byte(string(text))
				b[p], b[q] = c, edges[(int(c)+p+q)%len(edges)]
				agree(t, b)
				b[q] = byte(rng.IntN(256))
				agree(t, b)
			}
		}
	}
}

// agree checks ParseLowerHex and ParseLowerHexGo against encoding/hex.
func agree(t *testing.T, b []byte) {
	t.Helper()
	got, ok := domain.ParseLowerHex(b)
	gogot, gook := domain.ParseLowerHexGo(b)
	want, err := hex.DecodeString(string(b))
	wantOK := err == nil && strings.ToLower(string(b)) == string(b) && len(b) == 2*domain.HashSize
	if ok != wantOK || gook != wantOK || ok && (string(got[:]) != string(want) || gogot != got) {
		t.Fatalf("ParseLowerHex(%q) = %x, %v; Go %x, %v; encoding/hex %x, %v", b, got, ok, gogot, gook, want, err)
	}
	if !ok && got != (domain.Hash{}) {
		t.Fatalf("ParseLowerHex(%q) = %x, false; want a zero hash", b, got)
	}
}

// FuzzParseLowerHex: any bytes parse as lower-case hex exactly when
// encoding/hex reads them and they have no upper-case letter, to the same
// bytes, in assembly and in Go.
func FuzzParseLowerHex(f *testing.F) {
	f.Add([]byte(strings.Repeat("0f", domain.HashSize)))
	f.Add([]byte(strings.Repeat("aF", domain.HashSize)))
	f.Add([]byte(strings.Repeat("9g", domain.HashSize)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 2*domain.HashSize {
			b = b[:2*domain.HashSize]
		}
		agree(t, b)
		if len(b) < 2*domain.HashSize {
			// The same digits at full length, padded with valid ones.
			agree(t, append(b, strings.Repeat("7", 2*domain.HashSize-len(b))...))
		}
	})
}
