package idhash

import (
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSumAgreesWithMaphash: Sum2 is maphash.String, for every length
// from the empty string to past maxDirect, and for ids that differ in a
// byte at every position, under several seeds.
func TestSumAgreesWithMaphash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		ms := maphash.MakeSeed()
		s := Of(ms)
		for n := 0; n <= 3*maxDirect+1; n++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			check(t, &s, ms, string(b))
			if n > 0 {
				b[rng.IntN(n)] ^= 1 << rng.IntN(8)
				check(t, &s, ms, string(b))
			}
		}
		for _, id := range []string{"", "a", "bench-1", "acc-0001", "world", strings.Repeat("x", maxDirect), strings.Repeat("y", maxDirect+1)} {
			check(t, &s, ms, id)
		}
	}
}

// other2 is a second seed for Sum2.
var other2 = maphash.MakeSeed()

func check(t *testing.T, s *Seed, ms maphash.Seed, id string) {
	t.Helper()
	want := maphash.String(ms, id)
	// Sum2 with s in either place.
	pair := [2]Seed{*s, Of(other2)}
	var k [2]uint64
	Sum2(&k, &pair, id)
	if k != [2]uint64{want, maphash.String(other2, id)} {
		t.Fatalf("Sum2(%q) = %#x, maphash.String = %#x", id, k, want)
	}
	pair[0], pair[1] = pair[1], pair[0]
	Sum2(&k, &pair, id)
	if k != [2]uint64{maphash.String(other2, id), want} {
		t.Fatalf("Sum2(%q) swapped = %#x, maphash.String = %#x", id, k, want)
	}
}

// FuzzSum: Sum2 is maphash.String on any bytes.
func FuzzSum(f *testing.F) {
	f.Add("bench-1")
	f.Add("")
	f.Add(strings.Repeat("z", 200))
	ms := maphash.MakeSeed()
	s := Of(ms)
	f.Fuzz(func(t *testing.T, id string) { check(t, &s, ms, id) })
}

// TestSum2x3AgreesWithSum2: Sum2x3 sets each of its three keys as Sum2
// does, for ids of every length from empty to past maxDirect in each
// place (the direct path and the fallback, when any one id takes it),
// and is maphash.String under both seeds.
func TestSum2x3AgreesWithSum2(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ids := []string{"", "world", "bench-43", strings.Repeat("x", maxDirect), strings.Repeat("y", maxDirect+1)}
	for n := 1; n <= 40; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		ids = append(ids, string(b))
	}
	for range 4 {
		ms := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
		s := [2]Seed{Of(ms[0]), Of(ms[1])}
		for range 2000 {
			x, y, z := ids[rng.IntN(len(ids))], ids[rng.IntN(len(ids))], ids[rng.IntN(len(ids))]
			var a, b, c [2]uint64
			Sum2x3(&a, &b, &c, &s, x, y, z)
			for i, id := range []string{x, y, z} {
				got := [3][2]uint64{a, b, c}[i]
				want := [2]uint64{maphash.String(ms[0], id), maphash.String(ms[1], id)}
				if got != want {
					t.Fatalf("Sum2x3 id %d (%q) = %#x, maphash.String = %#x", i, id, got, want)
				}
			}
		}
	}
}

// FuzzSum2x3: Sum2x3 is maphash.String on any three ids.
func FuzzSum2x3(f *testing.F) {
	f.Add("bench-1", "world", "bench-2")
	f.Add("", "a", strings.Repeat("z", 200))
	ms := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	s := [2]Seed{Of(ms[0]), Of(ms[1])}
	f.Fuzz(func(t *testing.T, x, y, z string) {
		var k [3][2]uint64
		Sum2x3(&k[0], &k[1], &k[2], &s, x, y, z)
		for i, id := range []string{x, y, z} {
			if want := [2]uint64{maphash.String(ms[0], id), maphash.String(ms[1], id)}; k[i] != want {
				t.Fatalf("Sum2x3 id %d (%q) = %#x, maphash.String = %#x", i, id, k[i], want)
			}
		}
	})
}
