package audit

import (
	"math/bits"
	"unsafe"
)

// postedIDs is the set of posted transfer ids, each with the sequence
// that posted it: an open-addressing table with linear probing, written
// for the books' one hot question, "was this id posted, and if not,
// remember it", which it answers with one probe sequence where a Go map
// takes a lookup and an insert. The keys are already uniform hashes
// (maphash with seeds drawn for the run), so a key's first word picks its
// slot: the high word of its product with the table's length (home), so
// that the table can take any length, not only a power of two, and be
// sized for the ids it will hold rather than up to twice that.
//
// A slot takes 16 bytes, four to a cache line, none across two: the
// key's first word, and a word that packs the top 64 - postedSeqBits
// bits of its second word above the sequence's low postedSeqBits. An id is thus
// told from another by 88 bits of its key: n ids hold two that are taken
// for one (a "posted again" finding that names both sequences for a
// person to look at) with probability about n²/2⁸⁹, 2·10⁻⁹ at a billion
// ids; a duplicate is never missed, since equal ids have equal keys. A
// sequence too large for postedSeqBits (past 10¹², beyond any journal
// yet) is kept in big, its slot's sequence field marking it so. The table
// is sized for the ids expected (newPostedIDs) and doubles at 3/4 full:
// about 23 bytes per id when the expectation holds.
type postedIDs struct {
	slots []postedSlot
	n     int              // ids held
	big   map[idKey]uint64 // sequences of postedSeqBits or more, by bigKey
}

// postedSlot is one slot of the table; word 0 marks it empty (a posting's
// sequence is never 0: the schema check refuses it).
type postedSlot struct {
	k0   uint64 // the key's first word
	word uint64 // the top bits of the key's second word (tag), then the sequence
}

// The split of a slot's second word, and the sequence field's value for a
// sequence kept in big.
const (
	postedSeqBits = 40
	postedSeqMask = 1<<postedSeqBits - 1
	postedSeqBig  = postedSeqMask
)

// Table bounds: the smallest table; the load at which it doubles, as a
// fraction postedLoadNum/postedLoadDen; and the room made beyond the ids
// expected, as a fraction postedSlackNum/postedSlackDen, for an estimate
// that falls short (FileSource.sizeHint samples the file): a table that
// must double near the end of a run costs a second, larger table and
// moving every id.
const (
	postedMinSlots = 1 << 10
	postedLoadNum  = 3
	postedLoadDen  = 4
	postedSlackNum = 11
	postedSlackDen = 10
)

// newPostedIDs returns a table with room for about n ids, and a tenth
// more, before it grows: at most 3/4 full then. A slot is 16 bytes of
// memory the kernel must clear before the run can use it, so the table is
// not rounded up to a power of two.
func newPostedIDs(n uint64) postedIDs {
	size := max(uint64(postedMinSlots), n*postedSlackNum/postedSlackDen*postedLoadDen/postedLoadNum+1)
	return postedIDs{slots: makeTable[postedSlot](int(size))}
}

// home is the slot where a lookup of a key whose first word is k0 starts.
func (p *postedIDs) home(k0 uint64) uint64 {
	hi, _ := bits.Mul64(k0, uint64(len(p.slots)))
	return hi
}

// tag is the part of key's second word that a slot keeps, in place.
func tag(key idKey) uint64 { return key[1] &^ postedSeqMask }

// bigKey is key as the table tells it from others: its first word and
// its tag.
func bigKey(key idKey) idKey { return idKey{key[0], tag(key)} }

// put records that key was posted at seq (seq > 0) and returns the
// sequence that posted it before, if any: that one is then replaced.
// What nearly every posting is, an id not posted before at a sequence
// below postedSeqBig in a table with room, is done here; anything else
// (a duplicate, a sequence kept in big, a table to grow, sequence 0) by
// putAny. key is read in place (a posting's, in its line's record).
func (p *postedIDs) put(key *idKey, seq uint64) (before uint64, dup bool) {
	if seq-1 >= postedSeqBig-1 || (p.n+1)*postedLoadDen > len(p.slots)*postedLoadNum {
		return p.putAny(*key, seq)
	}
	s := p.slot(*key)
	if s.word != 0 {
		return p.putAny(*key, seq)
	}
	s.k0, s.word = key[0], tag(*key)|seq
	p.n++
	return 0, false
}

// putAny is put for any key and sequence.
func (p *postedIDs) putAny(key idKey, seq uint64) (before uint64, dup bool) {
	if seq == 0 {
		panic("audit: posting at sequence 0")
	}
	if (p.n+1)*postedLoadDen > len(p.slots)*postedLoadNum {
		p.grow()
	}
	s := p.slot(key)
	if dup = s.word != 0; dup {
		before = p.seqOf(s, key)
	} else {
		s.k0 = key[0]
		p.n++
	}
	field := seq
	if seq >= postedSeqBig {
		if p.big == nil {
			p.big = make(map[idKey]uint64)
		}
		p.big[bigKey(key)], field = seq, postedSeqBig
	} else if dup && before >= postedSeqBig {
		delete(p.big, bigKey(key))
	}
	s.word = tag(key) | field
	return before, dup
}

// get returns the sequence that posted key, if it was posted.
func (p *postedIDs) get(key idKey) (uint64, bool) {
	s := p.slot(key)
	if s.word == 0 {
		return 0, false
	}
	return p.seqOf(s, key), true
}

// seqOf is the sequence held in s, key's slot.
func (p *postedIDs) seqOf(s *postedSlot, key idKey) uint64 {
	if seq := s.word & postedSeqMask; seq != postedSeqBig {
		return seq
	}
	return p.big[bigKey(key)]
}

// postedBase is where the table's slots are, for engine.prefetchSlots:
// a table much bigger than the caches costs a memory round trip per
// lookup, and prefetches issued together, ahead of the lookups, overlap
// theirs. It is read once for a group of lines, so that each slot's
// address is a multiply and an add.
type postedBase struct {
	at uintptr // the first slot's address
	n  uint64  // the slots
}

// base is p's postedBase; p must not grow while it is used.
func (p *postedIDs) base() postedBase {
	return postedBase{uintptr(unsafe.Pointer(unsafe.SliceData(p.slots))), uint64(len(p.slots))}
}

// slotAddr is the address of the slot where a lookup (slot) of a key
// whose first word is k0 starts: its home.
func (b postedBase) slotAddr(k0 uint64) uintptr {
	hi, _ := bits.Mul64(k0, b.n) // home
	return b.at + uintptr(hi)*unsafe.Sizeof(postedSlot{})
}

// slot returns key's slot, or the empty slot where it belongs. The table
// is never full, so the probe ends.
func (p *postedIDs) slot(key idKey) *postedSlot {
	t := tag(key)
	for i := p.home(key[0]); ; {
		s := &p.slots[i]
		if s.word == 0 || s.k0 == key[0] && s.word&^postedSeqMask == t {
			return s
		}
		if i++; i == uint64(len(p.slots)) {
			i = 0
		}
	}
}

// grow doubles the table. A slot moves with its word; its key's first
// word is its place, and big keeps its key's part that the slot has.
func (p *postedIDs) grow() {
	old := p.slots
	p.slots = makeTable[postedSlot](2 * len(old))
	for _, s := range old {
		if s.word == 0 {
			continue
		}
		i := p.home(s.k0)
		for p.slots[i].word != 0 {
			if i++; i == uint64(len(p.slots)) {
				i = 0
			}
		}
		p.slots[i] = s
	}
}
