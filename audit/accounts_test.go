package audit

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestBookSlabStartsBooksOnACacheLine holds bookSlab to what
// engine.prefetch assumes: every book starts on a cache line, so what a
// posting reads of it lies in its first bookLines lines.
func TestBookSlabStartsBooksOnACacheLine(t *testing.T) {
	var s bookSlab
	for i := range 3*bookChunk + 7 {
		acc := s.alloc()
		if at := uintptr(unsafe.Pointer(acc)); at%cacheLine != 0 {
			t.Fatalf("book %d at %#x, not on a cache line", i, at)
		}
		if acc.num != uint32(i) || s.at(acc.num) != acc {
			t.Fatalf("book %d numbered %d", i, acc.num)
		}
	}
}

// TestAccountIndexFoundAheadAgreesWithGet holds getFound, which takes
// the book that bookAhead found ahead, to get: for every key, whatever
// the hint (the book found ahead, another key's, a book not indexed, or
// none), in an index whose keys share a few tags and home slots, so that
// bookAhead often stops at another account's book.
func TestAccountIndexFoundAheadAgreesWithGet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var x accountIndex
	var keys []idKey
	for i := range 3000 {
		// Tags from 8 values and homes from 64: many collide.
		k := idKey{uint64(rng.IntN(64)), uint64(rng.IntN(8)) | uint64(i+1)<<32}
		keys = append(keys, k)
		if i%5 != 0 { // a fifth stay out of the index
			x.add(k, x.books.alloc())
		}
	}
	stray := x.books.alloc() // a book not indexed, as the world's
	for i, k := range keys {
		want := x.get(k)
		if (want != nil) != (i%5 != 0) || want != nil && want.key != k {
			t.Fatalf("key %d: get found %v", i, want)
		}
		other := keys[rng.IntN(len(keys))]
		for _, hint := range []*accountBook{x.bookAhead(&k), x.bookAhead(&other), x.get(other), stray, nil} {
			if got := x.getFound(k, hint); got != want {
				t.Fatalf("key %d, hint %p: getFound %p, get %p", i, hint, got, want)
			}
		}
	}
}
