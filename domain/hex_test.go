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
// byte value at every position; HexOf (in assembly on amd64) and its Go
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
