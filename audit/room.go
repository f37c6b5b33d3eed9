package audit

import "github.com/nats-ledger/ledger/domain"

// room is where a worker puts a chunk's results, reused from chunk to
// chunk (the pipeline's free list): a record per line (lineResult), each
// line's stored hash, and the events of the lines that need one, in slabs
// so that a record's pointer to its event stays valid as more are added.
// A compact posting takes no event, so in a run without a read model or
// OnChunk a chunk of postings takes 192 bytes a line, not the 1 kB of an
// event besides.
type room struct {
	items  []lineResult
	hashes []domain.Hash
	slabs  [][]lineEvent
	used   int      // events handed out of slabs since size
	pair   *pairing // checkLines' hasher (pairState)
}

// roomSlab is the events of one slab: at most one slab a chunk left
// unused, and a chunk's lines (up to a 1 MiB block or a journal record)
// bound the slabs.
const roomSlab = 64

// size makes room for n lines, none of them with an event yet.
func (r *room) size(n int) {
	if cap(r.items) < n {
		r.items, r.hashes = make([]lineResult, n), make([]domain.Hash, n)
	}
	r.items, r.hashes, r.used = r.items[:n], r.hashes[:n], 0
}

// event returns room for one more line's event; it may hold an earlier
// line's.
func (r *room) event() *lineEvent {
	s, k := r.used/roomSlab, r.used%roomSlab
	if s == len(r.slabs) {
		r.slabs = append(r.slabs, make([]lineEvent, roomSlab))
	}
	r.used++
	return &r.slabs[s][k]
}
