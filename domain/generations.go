package domain

import (
	"encoding/binary"
	"slices"
)

// hotSet is the hot set of posted ids as generations (ADR 0027, amended):
// a young generation that takes every put, and older generations, oldest
// first, that are frozen, never written again. A lookup asks the young
// generation, then the older ones from the newest. An eviction moves the
// oldest frozen generation to the archive as a whole: the archive's
// writer reads it on its own goroutine (nothing writes it, so reading it
// there while the owner reads it too is safe), and once the write is
// durable the owner drops it from the list. Nothing on the owner's
// goroutine walks an id to evict: the pause does not grow with the hot
// set.
//
// Each frozen generation has a cut: the state's sequence when it was
// frozen, between two batches. Every id posted at or before a
// generation's cut and after the previous generation's is in it; the
// younger generations hold only ids posted after its cut and ids recalled
// from the archive (posted at or before the watermark, in the archive
// already). So dropping the oldest generation once it is archived keeps
// the invariant of hotset.go with the watermark at its cut.
//
// The zero value is an empty hot set.
type hotSet struct {
	young postedIDs
	// old are the frozen generations, oldest first: at most
	// hotGenerations+1, since every one but a snapshot's older half holds
	// capacity/hotGenerations ids or more, and PlanEviction plans the
	// oldest as soon as together they pass the capacity.
	old []*generation
}

// generation is a frozen generation of the hot set.
type generation struct {
	ids postedIDs // never written once frozen
	cut uint64    // the state's sequence when it was frozen
}

// hotGenerations is how many generations share the hot set's capacity:
// a generation is frozen when it holds capacity/hotGenerations ids, and
// the oldest is evicted when the hot set is over capacity. Two keep the
// newest half of the capacity hot at least and cost a new id three map
// lookups at most (young, old, and the one being archived); more
// generations would keep more of the capacity hot and cost a lookup more
// each.
const hotGenerations = 2

// generationLen is the number of ids at which the young generation is
// frozen, for a hot set of the given capacity.
func generationLen(capacity int) int { return max(1, capacity/hotGenerations) }

// get returns the ref of k, from the newest generation that holds it.
func (h *hotSet) get(k idKey) (postedRef, bool) {
	if ref, ok := h.young.get(k); ok {
		return ref, true
	}
	for i := len(h.old) - 1; i >= 0; i-- {
		if ref, ok := h.old[i].ids.get(k); ok {
			return ref, true
		}
	}
	return postedRef{}, false
}

// put remembers k in the young generation.
func (h *hotSet) put(k idKey, ref postedRef) { h.young.put(k, ref) }

// mark returns what rollback needs to undo the puts after it: the young
// generation's log length. A generation is frozen only between batches,
// so the puts of a batch are all in the young generation.
func (h *hotSet) mark() uint64 { return h.young.log.n }

// rollback forgets keys, the last ones put, and truncates the young
// generation's log to n (a mark).
func (h *hotSet) rollback(keys []idKey, n uint64) { h.young.rollback(keys, n) }

// len returns the number of ids held in memory, in every generation (an
// id in two generations, which only a journal that posts it twice makes,
// counts twice).
func (h *hotSet) len() int {
	n := h.young.len()
	for _, g := range h.old {
		n += g.ids.len()
	}
	return n
}

// freeze makes the young generation an old one, cut at seq, and starts
// an empty one: O(1), the maps and the log change hands.
func (h *hotSet) freeze(seq uint64) {
	h.old = append(h.old, &generation{ids: h.young, cut: seq})
	h.young = postedIDs{}
}

// load fills an empty hot set with the n ids of a snapshot (raw as for
// postedIDs.load, at most maxSeq) in two generations, split at the
// median of a sample of their sequences: the older half frozen, cut at
// the split, the newer half young. Loading them all in one generation
// would evict them all at once at the first eviction after a restart.
func (h *hotSet) load(raw []byte, n int, maxSeq uint64) error {
	// The order is checked on the whole: an id in both halves is refused.
	if err := checkPostedRecords(raw, n, maxSeq); err != nil {
		return err
	}
	seqAt := func(i int) uint64 { return binary.BigEndian.Uint64(raw[i*postedBytes+16:]) }
	if n < 2*evictSamples {
		return h.young.load(raw, n, maxSeq)
	}
	samples := make([]uint64, 0, evictSamples)
	for i := range evictSamples {
		samples = append(samples, seqAt(i*n/evictSamples))
	}
	slices.Sort(samples)
	split := samples[len(samples)/2]
	older, newer := make([]byte, 0, len(raw)/2), make([]byte, 0, len(raw)/2)
	for i := range n {
		rec := raw[i*postedBytes : (i+1)*postedBytes]
		if seqAt(i) <= split {
			older = append(older, rec...)
		} else {
			newer = append(newer, rec...)
		}
	}
	g := &generation{cut: split}
	if err := g.ids.load(older, len(older)/postedBytes, maxSeq); err != nil {
		return err
	}
	h.old = append(h.old, g)
	return h.young.load(newer, len(newer)/postedBytes, maxSeq)
}
