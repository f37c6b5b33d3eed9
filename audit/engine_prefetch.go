package audit

import (
	"unsafe"

	"github.com/nats-ledger/ledger/audit/internal/prefetch"
)

// prefetchGroup is how many lines engine.prefetch prefetches for at a
// time, a group or two ahead of the books: four lines, about a
// microsecond of the books' work, more than memory's latency, in bursts
// of at most 16 prefetches. Longer groups cost more on the export of
// docs/BENCHMARKS.md ("Audit, the in-order part's misses": 64 lines took
// half as much CPU again as 4), likely because a burst of hundreds of
// prefetches is more than a core keeps under way, and what the first
// ones bring is evicted again before the books read it.
const prefetchGroup = 4

// cacheLine is the CPU's cache line; bookLines, how many lines the
// fields of an account that a posting reads span (accountBook).
const (
	cacheLine = 64
	bookLines = 1
)

// prefetchAddrs bounds the addresses engine.prefetch hands over at a
// time: at a batch's start, three groups' slots (the posted id's, on at
// most postedSlotLines lines, and two accounts' a posting) and two
// groups' books (bookLines lines each of two accounts); after, one
// group's slots and one's books.
const prefetchAddrs = (3*(postedSlotLines+2) + 2*2*bookLines) * prefetchGroup

// postedSlotLines is how many lines of the posted-id table prefetch
// fetches for a posting at most: its slot's, and the next when the slot
// is in the second half of its line. A put probes on from its slot and
// ends past its slot's line about once in five (18.4 % of the puts of
// 1,187,001 ids into a table sized for them, measured with a throwaway
// test: four slots a line, 3/4 full at most), which was a miss the
// prefetch did not cover; the next line covers all but 7.9 % of them, at
// half a prefetch more a posting. Always the next line (4.5 % uncovered)
// did no better on the export ("Audit, the in-order part, one line a
// book", docs/BENCHMARKS.md).
const postedSlotLines = 2

// Compile-time check: a group's addresses fit what prefetch.Lines takes
// at a time.
var _ [prefetch.MaxAddrs - prefetchAddrs]struct{}

// prefetch asks the CPU for what the books will read of the postings
// ahead, when they are at line i of items (a multiple of prefetchGroup):
// the posted-id slots and the accounts' index slots two groups ahead, and
// the books of the accounts one group ahead, whose index slots the step
// before brought in (a book is found through its slot). The tables are
// bigger than the caches; prefetches (audit/internal/prefetch) overlap
// their misses without stalling the core, where the lookups would wait
// for each in turn, and loads in their place would stall it until the
// slowest arrived. A group's addresses go to the CPU in one call.
func (e *engine) prefetch(items []lineResult, i int) {
	if e.partial {
		return
	}
	n := 0
	if i == 0 {
		n = e.prefetchSlots(items, 0, n)
		n = e.prefetchSlots(items, prefetchGroup, n)
		n = e.prefetchBooks(items, 0, n)
	}
	n = e.prefetchSlots(items, i+2*prefetchGroup, n)
	n = e.prefetchBooks(items, i+prefetchGroup, n)
	prefetch.Lines(e.addrs[:n])
}

// prefetchSlots adds to e.addrs, from its nth, the addresses of the
// posted-id slots and the accounts' index slots of the postings among the
// group of items from line from, and returns how many e.addrs then holds.
// The tables' addresses are read once for the group, and each line's
// addresses written through one slice of e.addrs (one bounds check a line).
func (e *engine) prefetchSlots(items []lineResult, from, n int) int {
	end := min(from+prefetchGroup, len(items))
	if from >= end {
		return n
	}
	posted := e.books.posted.base()
	index := e.books.byHash.base()
	for i := from; i < end; i++ {
		r := &items[i].nums
		if !r.ok {
			continue
		}
		a := e.addrs[n : n+2+2 : n+2+2]
		// The slot's line, and the next when the slot is in the line's
		// second half (postedSlotLines).
		at := posted.slotAddr(r.key[0])
		a[0], a[1] = at, (at|(cacheLine-1))+1
		m := 1 + int(at/(cacheLine/2)&1)
		if r.hashed && index.ok() {
			a[m], a[m+1] = index.slotAddr(r.acct[0][0]), index.slotAddr(r.acct[1][0])
			m += 2
		}
		n += m
	}
	return n
}

// prefetchBooks adds to e.addrs, from its nth, the first bookLines lines
// of the books of the accounts of the postings among the group of items
// from line from, read from their index slots, and returns how many
// e.addrs then holds. It keeps the books found (Books.found) so that the
// posting does not look them up again (accountIndex.getFound).
func (e *engine) prefetchBooks(items []lineResult, from, n int) int {
	for i := from; i < min(from+prefetchGroup, len(items)); i++ {
		var found [2]*accountBook
		if r := &items[i].nums; r.hashed {
			for side := range r.acct {
				if !r.world[side] {
					if acc := e.books.byHash.bookAhead(&r.acct[side]); acc != nil {
						e.addrs[n] = uintptr(unsafe.Pointer(acc)) // bookLines: one
						n++
						found[side] = acc
					}
				}
			}
		}
		e.books.found[uint(i)%uint(len(e.books.found))] = found
	}
	return n
}
