package audit

import "unsafe"

// accountIndex finds an ordinary account by the key of its id (idKey:
// two 64-bit hashes with seeds drawn for the run, as the posted ids are
// kept), which a worker computes ahead of the books (numbers.acct), so
// that the in-order part of a posting finds its two accounts by an
// integer comparison and reads neither the line's bytes nor the
// account's id: an open-addressing table with linear probing, beside
// Books.accounts, which holds the same accounts by id for every other
// event.
//
// A slot is 8 bytes, the account's number in the slab (bookSlab) and 32
// bits of its key's second word as a tag; the book holds the key's first
// word and the tag, which a lookup compares in the cache line a posting
// reads anyway (accountBook.is). An account is thus told from another by
// 96 bits of its key: n accounts hold two taken for one with probability
// about n²/2⁹⁷, 6·10⁻¹⁸ at a million accounts, under seeds nobody outside
// the run knows. The
// table stays between 3/8 and 3/4 full (at most about 21 bytes per
// account), so 10,000 accounts' slots take 128 kB and stay in the core's
// L2, where slots of key and pointer (24 bytes) took three times that.
type accountIndex struct {
	slots []accountSlot
	n     int
	books bookSlab // every account's book, the indexed and the others
}

// accountSlot is one slot; num 0 marks it empty, else it is the book's
// number in the slab plus one.
type accountSlot struct {
	tag uint32 // the key's second word's low half
	num uint32
}

// accountMinSlots is the smallest table; it doubles at 3/4 full (the
// posted-id table's load, postedLoadNum/postedLoadDen).
const accountMinSlots = 1 << 8

func tagOf(k idKey) uint32 { return uint32(k[1]) }

// add indexes acc, a book of the slab, whose id has key k; the caller
// adds each account once.
func (x *accountIndex) add(k idKey, acc *accountBook) {
	acc.key0, acc.tag = k[0], tagOf(k)
	if (x.n+1)*postedLoadDen > len(x.slots)*postedLoadNum {
		x.grow()
	}
	x.insert(k, acc.num)
	x.n++
}

// insert puts a book's number in the first free slot of k's probe.
func (x *accountIndex) insert(k idKey, num uint32) {
	mask := uint64(len(x.slots) - 1)
	i := k[0] & mask
	for x.slots[i].num != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = accountSlot{tag: tagOf(k), num: num + 1}
}

// get returns the account whose id has key k, or nil.
func (x *accountIndex) get(k idKey) *accountBook {
	if len(x.slots) == 0 {
		return nil
	}
	mask := uint64(len(x.slots) - 1)
	tag := tagOf(k)
	for i := k[0] & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.num == 0 {
			return nil
		}
		if s.tag == tag {
			if acc := x.books.at(s.num - 1); acc.is(k) {
				return acc
			}
		}
	}
}

// getFound is get, given the book that bookAhead found for k ahead of
// it (engine.prefetch keeps it, nil if none): that book when it is k's,
// so the lookup costs one comparison in the cache line the posting reads
// anyway. bookAhead stops at the first slot whose tag is k's, which is
// another account's book only when two keys share a tag (or the hint is
// stale, another line's): the full lookup then answers, as it always
// would have. An index holds one book a key, so a book whose key is k is
// the one get returns. Books.postingAccount composes the same two steps
// inline (the call costs more than the comparison).
func (x *accountIndex) getFound(k *idKey, found *accountBook) *accountBook {
	if foundIs(found, k) {
		return found
	}
	return x.get(*k)
}

// foundIs reports whether found, a book bookAhead found or nil, is the
// book of the account whose id has key *k (accountBook.is).
func foundIs(found *accountBook, k *idKey) bool {
	return found != nil && found.key0 == k[0] && found.tag == uint32(k[1])
}

// indexBase is where an index's slots are, for engine.prefetchSlots:
// read once for a group of lines.
type indexBase struct {
	at   uintptr // the first slot's address, 0 for an empty index
	mask uint64
}

// base is x's indexBase; x must not grow while it is used.
func (x *accountIndex) base() indexBase {
	return indexBase{uintptr(unsafe.Pointer(unsafe.SliceData(x.slots))), uint64(len(x.slots) - 1)}
}

// ok reports whether the index has slots.
func (b indexBase) ok() bool { return b.at != 0 }

// slotAddr is the address of the slot where a lookup (get) of a key whose
// first word is k0 starts, in an index that has slots.
func (b indexBase) slotAddr(k0 uint64) uintptr {
	return b.at + uintptr(k0&b.mask)*unsafe.Sizeof(accountSlot{})
}

// bookAhead follows the probe of k through the slots (which
// engine.prefetch brought in before) to the first whose tag is k's, and
// returns the book it names, whose first bookLines cache lines hold what
// a posting reads of it, for engine.prefetch (which keeps it for
// getFound); nil when the probe ends first. k is read in place, in its
// line's record. A lookup's account is in its first slot only about
// seven times in ten (10,000 accounts in 16,384 slots, measured): the
// first slot's book would be the wrong one for the rest.
func (x *accountIndex) bookAhead(k *idKey) *accountBook {
	slots := x.slots
	if len(slots) == 0 {
		return nil
	}
	mask := uint64(len(slots) - 1)
	tag := uint32(k[1]) // tagOf
	for i := k[0] & mask; ; i = (i + 1) & mask {
		s := slots[i]
		if s.num == 0 {
			return nil
		}
		if s.tag == tag {
			return x.books.at(s.num - 1)
		}
	}
}

// grow doubles the table (or makes the first).
func (x *accountIndex) grow() {
	old := x.slots
	x.slots = make([]accountSlot, max(accountMinSlots, 2*len(old)))
	for _, s := range old {
		if s.num != 0 {
			x.insert(idKey{x.books.at(s.num - 1).key0, uint64(s.tag)}, s.num-1)
		}
	}
}

// bookSlab holds the account books in chunks that never move, so a book
// is found by its number as well as by pointer. A chunk is bigger than
// the Go allocator's largest size class (32 kB) and so starts on a page:
// every book (accountBookSize, a multiple of the cache line) starts on
// a cache line, and what a posting reads of it spans bookLines lines
// exactly, never one more.
type bookSlab struct {
	chunks []*[bookChunk]accountBook
	n      int
}

// bookChunk is the books in a chunk (48 kB). Numbers are 32 bits: the
// slab holds at most maxBooks books (800 GB of them), far beyond any
// ledger's accounts; one more ends the run rather than wrap a number.
const (
	bookChunk = 256
	maxBooks  = 1<<32 - 1
)

// alloc returns a new zero book, its number set.
func (s *bookSlab) alloc() *accountBook {
	if s.n == maxBooks {
		panic("audit: more than 2³² - 1 accounts")
	}
	if s.n%bookChunk == 0 {
		s.chunks = append(s.chunks, new([bookChunk]accountBook))
	}
	acc := &s.chunks[s.n/bookChunk][s.n%bookChunk]
	acc.num = uint32(s.n)
	s.n++
	return acc
}

// at is book number num.
func (s *bookSlab) at(num uint32) *accountBook {
	return &s.chunks[num/bookChunk][num%bookChunk]
}
