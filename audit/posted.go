package audit

// postedIDs is the set of posted transfer ids, each with the sequence
// that posted it: an open-addressing table with linear probing, written
// for the books' one hot question, "was this id posted, and if not,
// remember it", which it answers with one probe sequence where a Go map
// takes a lookup and an insert. The keys are already uniform hashes
// (maphash with seeds drawn for the run), so a key's first word picks its
// slot. A slot takes 24 bytes and the table stays between 3/8 and 3/4
// full: about 45 bytes per id on average.
type postedIDs struct {
	slots []postedSlot
	n     int // ids held
}

// postedSlot is one slot of the table; seq 0 marks it empty (a posting's
// sequence is never 0: the schema check refuses it).
type postedSlot struct {
	key idKey
	seq uint64
}

// Table bounds: the smallest table, and the load at which it doubles,
// as a fraction postedLoadNum/postedLoadDen.
const (
	postedMinSlots = 1 << 10
	postedLoadNum  = 3
	postedLoadDen  = 4
)

// newPostedIDs returns a table with room for about n ids before it grows.
func newPostedIDs(n uint64) postedIDs {
	size := uint64(postedMinSlots)
	for size*postedLoadNum/postedLoadDen < n {
		size *= 2
	}
	return postedIDs{slots: makeTable[postedSlot](int(size))}
}

// put records that key was posted at seq (seq > 0) and returns the
// sequence that posted it before, if any: that one is then replaced.
func (p *postedIDs) put(key idKey, seq uint64) (before uint64, dup bool) {
	if seq == 0 {
		panic("audit: posting at sequence 0")
	}
	if (p.n+1)*postedLoadDen > len(p.slots)*postedLoadNum {
		p.grow()
	}
	s := p.slot(key)
	before, dup = s.seq, s.seq != 0
	if !dup {
		s.key = key
		p.n++
	}
	s.seq = seq
	return before, dup
}

// get returns the sequence that posted key, if it was posted.
func (p *postedIDs) get(key idKey) (uint64, bool) {
	s := p.slot(key)
	return s.seq, s.seq != 0
}

// touch loads the slot where a lookup of key starts and returns its
// sequence, for the caller to keep (see engine.prefetch): a table much
// bigger than the caches costs a memory round trip per lookup, and loads
// issued together, ahead of the lookups, overlap theirs.
func (p *postedIDs) touch(key idKey) uint64 {
	return p.slots[key[0]&uint64(len(p.slots)-1)].seq
}

// slot returns key's slot, or the empty slot where it belongs. The table
// is never full, so the probe ends.
func (p *postedIDs) slot(key idKey) *postedSlot {
	mask := uint64(len(p.slots) - 1)
	for i := key[0] & mask; ; i = (i + 1) & mask {
		s := &p.slots[i]
		if s.seq == 0 || s.key == key {
			return s
		}
	}
}

// grow doubles the table.
func (p *postedIDs) grow() {
	old := p.slots
	p.slots = makeTable[postedSlot](2 * len(old))
	for _, s := range old {
		if s.seq != 0 {
			*p.slot(s.key) = s
		}
	}
}
