package domain

import "encoding/hex"

// The hot set and the archive of posted ids (ADR 0027). The State keeps
// the posted ids it may still need often in memory (the hot set: two
// generations, generations.go) and leaves the rest to an archive on disk
// that the processor owns: the domain does no I/O. Two rules keep duplicate detection exact:
//
//   - Invariant: every id posted at a sequence at or below the state's
//     archive watermark (ArchivedThrough) is in the archive; every id
//     posted after it is hot. Evict moves the watermark only for ids the
//     caller has made durable in the archive first.
//   - Before Decide looks an id up, the processor asks Unchecked which of
//     the ids its commands need are not hot, looks those up in the archive
//     and hands the answers to Prefetched: found ids are recalled into the
//     hot set, absent ones are marked checked-absent until the next
//     Unchecked or Evict. Decide panics on an id that is neither, once the
//     watermark is above zero: deciding it as new could post it twice.
//
// A ledger that never evicted (watermark 0) has every id hot and pays
// nothing: Unchecked returns nothing.

// PostedID is a posted transfer id as the archive keeps it: its key (the
// first 128 bits of SHA-256 of the id), the ledger sequence that posted it
// and the fingerprint of its body.
type PostedID struct {
	Key         [16]byte
	Seq         uint64
	Fingerprint uint64
}

// Eviction is a plan to move the oldest generation of hot ids to the
// archive (generations.go): every hot id posted at or before Cut is in it
// or in the archive already. IDs lists those the archive does not hold
// yet; it reads the generation, which nothing writes any more, so the
// archive's writer calls it on its own goroutine while the state's owner
// decides on.
type Eviction struct {
	Cut   uint64
	gen   *generation
	after uint64 // the watermark when planned: ids at or below it are archived
}

// IDs returns the ids the eviction moves to the archive: those of its
// generation posted after the watermark of the plan (the others were
// recalled from the archive). Safe to call from any goroutine, while the
// state is used, until the state is dropped; it walks the generation.
func (ev Eviction) IDs() []PostedID {
	if ev.gen == nil {
		return nil
	}
	ids := make([]PostedID, 0, ev.Len())
	ev.gen.ids.each(func(k idKey, ref postedRef) {
		if ref.seq > ev.after {
			ids = append(ids, PostedID{Key: k, Seq: ref.seq, Fingerprint: uint64(ref.fp)})
		}
	})
	return ids
}

// Len returns the number of ids in the eviction's generation: an upper
// bound of len(IDs()), without a walk.
func (ev Eviction) Len() int {
	if ev.gen == nil {
		return 0
	}
	return ev.gen.ids.len()
}

// evictSamples is how many sequences a snapshot's load samples to split
// its ids into two generations at their median (generations.go).
const evictSamples = 1024

// ArchivedThrough returns the archive watermark: every id posted at or
// before it is in the archive, not necessarily in memory.
func (s *State) ArchivedThrough() uint64 { return s.archived }

// HotIDs returns the number of posted ids held in memory, in every
// generation (an eviction's generation is held until Evict).
func (s *State) HotIDs() int { return s.posted.len() }

// PlanEviction returns the eviction that brings the hot set back under
// capacity, or false when it is not over it. It freezes the young
// generation first when it holds capacity/hotGenerations ids; the plan is
// the oldest frozen generation, whose cut becomes the watermark. Neither
// walks an id: the cost does not grow with the capacity. Ids stay hot
// until Evict; the state decides as before.
func (s *State) PlanEviction(capacity int) (Eviction, bool) {
	if capacity <= 0 {
		return Eviction{}, false
	}
	h := &s.posted
	if h.young.len() >= generationLen(capacity) {
		h.freeze(s.seq)
	}
	if h.len() <= capacity || len(h.old) == 0 {
		return Eviction{}, false
	}
	g := h.old[0]
	return Eviction{Cut: max(g.cut, s.archived), gen: g, after: s.archived}, true
}

// Evict carries out a plan of PlanEviction, once its IDs are durable in
// the archive: it drops the plan's generation, the oldest (O(1): nothing
// is walked), and moves the watermark to its cut. Decisions may come
// between the plan and Evict (the processor writes the plan on another
// goroutine): the ids they post are put in the young generation, after
// the cut, and those they recall are at or below the old watermark, in
// the archive already. A generation dropped stays readable by an Image
// taken before, which holds it.
func (s *State) Evict(ev Eviction) {
	h := &s.posted
	if ev.gen == nil || len(h.old) == 0 || h.old[0] != ev.gen {
		panic("domain: Evict of a plan that is not the state's oldest generation")
	}
	h.old[0] = nil
	h.old = h.old[1:]
	s.archived = max(s.archived, ev.Cut)
	clear(s.absent)
}

// Unchecked appends to dst the keys that deciding cmds will look up and
// that are neither hot nor checked-absent (a key twice in cmds is there
// twice) and returns it; dst unchanged while the watermark is zero. The
// processor looks them up in the archive and gives the answers to
// Prefetched before it decides cmds. It starts a new round: the keys
// marked absent before are forgotten, which bounds them by the commands of
// one round.
func (s *State) Unchecked(cmds []Command, dst [][16]byte) [][16]byte {
	if s.archived == 0 {
		return dst
	}
	clear(s.absent)
	for i := range cmds {
		for _, k := range cmds[i].idKeys() {
			if _, hot := s.posted.get(k); hot || s.checkedAbsent(k) {
				continue
			}
			dst = append(dst, [16]byte(k))
		}
	}
	return dst
}

// Prefetched gives the state the archive's answers for the keys Unchecked
// returned: found ids become hot again, with their original sequence and
// fingerprint, and absent keys are known absent until the next Unchecked
// or eviction. Found ids must have been posted at or before the
// watermark.
func (s *State) Prefetched(found []PostedID, absent [][16]byte) {
	if s.absent == nil {
		s.absent = make(map[idKey]struct{}, len(absent))
	}
	for _, id := range found {
		if id.Seq == 0 || id.Seq > s.archived {
			panic("domain: an archived id posted at sequence " + uitoa(id.Seq) + ", beyond the archive watermark " + uitoa(s.archived))
		}
		if _, hot := s.posted.get(idKey(id.Key)); !hot {
			s.posted.put(idKey(id.Key), postedRef{seq: id.Seq, fp: fingerprint(id.Fingerprint)})
		}
	}
	for _, k := range absent {
		s.absent[idKey(k)] = struct{}{}
	}
}

func (s *State) checkedAbsent(k idKey) bool {
	_, ok := s.absent[k]
	return ok
}

// mustBeChecked is Decide's guard for an id not found in the hot set:
// with ids in the archive, only one that the processor looked up there
// (Prefetched) may be decided as new.
func (s *State) mustBeChecked(k idKey) {
	if s.archived > 0 && !s.checkedAbsent(k) {
		panic("domain: posted id " + hex.EncodeToString(k[:]) + " is not in memory and was not looked up in the archive (watermark " +
			uitoa(s.archived) + "): the processor must call Unchecked and Prefetched before Decide")
	}
}

// idKeys returns the keys of the posted ids that deciding c looks up. A
// command that looks up posted ids (a transfer's own id; a reversal's
// original, a hold's id) lists them here, or Decide panics on it once ids
// are archived (docs/architecture.md, "How to add a command").
func (c *Command) idKeys() []idKey {
	switch {
	case c.Transfer != nil:
		return []idKey{keyOf(c.Transfer.ID)}
	case c.Reversal != nil:
		return []idKey{keyOf(c.Reversal.ID), keyOf(c.Reversal.Original.ID)}
	case c.Transaction != nil:
		return []idKey{keyOf(c.Transaction.ID)}
	}
	return nil
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		if v < 10 {
			return string(b[i:])
		}
		v /= 10
	}
}
