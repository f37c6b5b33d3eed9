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
// byte value at every position.
func TestLowerHex(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := range 200 {
		var h domain.Hash
		for i := range h {
			h[i] = byte(rng.IntN(256))
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
			}
			if n >= 20 {
				break // every position of 20 hashes, the first of the rest
			}
		}
	}
	if _, ok := domain.ParseLowerHex([]byte(strings.Repeat("0", 63))); ok {
		t.Fatal("ParseLowerHex took 63 digits")
	}
}
