package audit

import (
	"math/rand/v2"
	"testing"
)

// TestPostedIDsAgreesWithAMap: the packed table answers put and get as a
// map from key to the last sequence put does, through growth, with
// sequences past what a slot holds in place, and with keys that differ
// only in the part of their second word a slot keeps.
func TestPostedIDsAgreesWithAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	p := newPostedIDs(0)
	want := map[idKey]uint64{}
	keys := make([]idKey, 0, 5000)
	for range 5000 {
		k := idKey{rng.Uint64(), rng.Uint64()}
		if len(keys) > 0 && rng.IntN(8) == 0 {
			// The same first word, another tag: another id.
			k[0] = keys[rng.IntN(len(keys))][0]
		}
		keys = append(keys, k)
	}
	for i := range 40_000 {
		k := keys[rng.IntN(len(keys))]
		seq := uint64(i + 1)
		if rng.IntN(5) == 0 {
			seq += postedSeqBig - 3 + uint64(rng.IntN(6)) // around and past what a slot holds
		}
		before, dup := p.put(k, seq)
		if w, ok := want[k]; dup != ok || before != w {
			t.Fatalf("put %d: before %d, dup %v; want %d, %v", i, before, dup, w, ok)
		}
		want[k] = seq
	}
	for _, k := range keys {
		got, ok := p.get(k)
		if w, wok := want[k]; ok != wok || got != w {
			t.Fatalf("get %x: %d, %v; want %d, %v", k, got, ok, w, wok)
		}
	}
	if p.n != len(want) {
		t.Fatalf("%d ids held, want %d", p.n, len(want))
	}
	for _, s := range p.slots {
		if s.word&postedSeqMask == postedSeqBig {
			if _, ok := p.big[idKey{s.k0, s.word &^ postedSeqMask}]; !ok {
				t.Fatalf("slot %x marks a big sequence that big does not hold", s)
			}
		}
	}
}
