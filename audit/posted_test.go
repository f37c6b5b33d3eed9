package audit

import (
	"math/rand/v2"
	"testing"
)

// TestPostedIDsAgreesWithAMap: the packed table answers put and get as a
// map from key to the last sequence put does, through growth, with
// sequences past what a slot holds in place, and with keys that differ
// only in the part of their second word a slot keeps; in tables of the
// smallest size and of sizes that are no power of two, sized for fewer
// ids than they get and for more (probes wrap past the last slot).
func TestPostedIDsAgreesWithAMap(t *testing.T) {
	for _, hint := range []uint64{0, 777, 3001, 9000} {
		p := newPostedIDs(hint)
		if hint > 0 && len(p.slots)&(len(p.slots)-1) == 0 {
			t.Fatalf("hint %d: %d slots, a power of two: the test would not cover others", hint, len(p.slots))
		}
		postedAgreesWithAMap(t, &p)
	}
}

func postedAgreesWithAMap(t *testing.T, p *postedIDs) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
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
		before, dup := p.put(&k, seq)
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

// TestPostedIDsWrapPastTheLastSlot: keys whose home is the last slot
// take the first slots after it, and are found there.
func TestPostedIDsWrapPastTheLastSlot(t *testing.T) {
	p := newPostedIDs(1000)
	keys := make([]idKey, 5)
	for i := range keys {
		keys[i] = idKey{^uint64(0), uint64(i+1) << postedSeqBits}
		if p.home(keys[i][0]) != uint64(len(p.slots)-1) {
			t.Fatalf("home %d of %d slots", p.home(keys[i][0]), len(p.slots))
		}
		if _, dup := p.put(&keys[i], uint64(10+i)); dup {
			t.Fatalf("key %d taken for another", i)
		}
	}
	for i, k := range keys {
		if seq, ok := p.get(k); !ok || seq != uint64(10+i) {
			t.Fatalf("key %d: %d, %v", i, seq, ok)
		}
	}
	if p.slots[0].word == 0 || p.slots[3].word == 0 {
		t.Fatal("the keys past the last slot are not at the first slots")
	}
}
