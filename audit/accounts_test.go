package audit

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/nats-ledger/ledger/domain"
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
		// Tags from 8 values and homes from 64: many collide. The keys
		// differ in their first word's high half, which a book compares
		// (accountBook.is) and the index's slot does not.
		k := idKey{uint64(rng.IntN(64)) | uint64(i+1)<<32, uint64(rng.IntN(8))}
		keys = append(keys, k)
		if i%5 != 0 { // a fifth stay out of the index
			x.add(k, x.books.alloc())
		}
	}
	stray := x.books.alloc() // a book not indexed, as the world's
	for i, k := range keys {
		want := x.get(k)
		if (want != nil) != (i%5 != 0) || want != nil && !want.is(k) {
			t.Fatalf("key %d: get found %v", i, want)
		}
		other := keys[rng.IntN(len(keys))]
		for _, hint := range []*accountBook{x.bookAhead(&k), x.bookAhead(&other), x.get(other), stray, nil} {
			if got := x.getFound(&k, hint); got != want {
				t.Fatalf("key %d, hint %p: getFound %p, get %p", i, hint, got, want)
			}
		}
	}
}

// TestBookFlagsAgreeWithTheirFields holds the flags on a book's first
// line to the fields they stand for on its second: belowFloor is the
// plain rule (not unlimited and balance < floor) over balances and
// floors of every sign, set and changed in turn, and drifted says
// whether drift is not zero.
func TestBookFlagsAgreeWithTheirFields(t *testing.T) {
	var acc accountBook
	values := []domain.Amount{domain.AmountFromInt64(0), domain.AmountFromInt64(1), domain.AmountFromInt64(-1),
		domain.AmountFromInt64(-500), domain.AmountFromInt64(500), domain.AmountFromInt64(-1 << 62)}
	for _, unlimited := range []bool{false, true} {
		for _, floor := range values {
			acc.setFloor(unlimited, floor)
			for _, balance := range values {
				acc.balance = balance
				if want := !unlimited && balance.Cmp(floor) < 0; acc.belowFloor() != want {
					t.Fatalf("unlimited %v, floor %v, balance %v: belowFloor %v", unlimited, floor, balance, !want)
				}
				acc.setDrift(balance)
				if acc.drifted != !acc.drift.IsZero() || acc.drift != balance {
					t.Fatalf("drift %v: drifted %v", balance, acc.drifted)
				}
			}
		}
	}
}

// TestFoundSidesAgreesWithPostingSides: Books.post's short path for a
// posting's accounts (foundSides) finds, whenever it finds any, the same
// two books as postingSides, and leaves every other posting to it:
// accounts indexed or not, of the posting's asset or another, the world
// on either side, no keys, and books found ahead that are the key's,
// another key's, a book not indexed, or none.
func TestFoundSidesAgreesWithPostingSides(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 4))
	b := newBooks(func(Finding) {}, 0)
	assets := [2]*assetBook{{code: "EUR"}, {code: "USD"}}
	for _, as := range assets {
		as.world = b.byHash.books.alloc()
		as.world.asset = as
	}
	var keys []idKey
	var books []*accountBook
	for i := range 2000 {
		k := idKey{uint64(rng.IntN(64)) | uint64(i+1)<<32, uint64(rng.IntN(8))}
		acc := b.byHash.books.alloc()
		acc.asset = assets[rng.IntN(2)]
		if i%5 != 0 { // a fifth stay out of the index
			b.byHash.add(k, acc)
		}
		keys, books = append(keys, k), append(books, acc)
	}
	stray := b.byHash.books.alloc()
	hint := func(k idKey) *accountBook {
		switch rng.IntN(4) {
		case 0:
			return b.byHash.bookAhead(&k)
		case 1:
			return books[rng.IntN(len(books))]
		case 2:
			return stray
		}
		return nil
	}
	took := 0
	for round := range 50_000 {
		n := &numbers{ok: true, hashed: rng.IntN(20) != 0}
		for side := range n.acct {
			n.acct[side] = keys[rng.IntN(len(keys))]
			n.world[side] = rng.IntN(20) == 0
		}
		b.foundAt = uint(rng.IntN(64))
		b.found[b.foundAt%uint(len(b.found))] = [2]*accountBook{hint(n.acct[0]), hint(n.acct[1])}
		as := assets[rng.IntN(2)]
		from, to := b.foundSides(n, as)
		if from == nil {
			if to != nil {
				t.Fatalf("round %d: foundSides gave a to without a from", round)
			}
			continue
		}
		took++
		p := posting{seq: 1, n: n}
		wantFrom, wantTo, ok := b.postingSides(&p, as)
		if !ok || from != wantFrom || to != wantTo {
			t.Fatalf("round %d: foundSides %p %p, postingSides %p %p %v", round, from, to, wantFrom, wantTo, ok)
		}
	}
	if took < 5000 {
		t.Fatalf("foundSides took %d of 50,000 postings: the test draws too few of its case", took)
	}
}
