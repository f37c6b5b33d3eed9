package audit

import (
	"github.com/nats-ledger/ledger/audit/internal/sha256x"
	"github.com/nats-ledger/ledger/domain"
)

// Hashing lines two at a time. A line's SHA-256 is most of a worker's
// cost, and with the SHA extensions one message keeps the round unit
// busy only half the time (docs/audit.md, Cost): sha256x hashes two
// messages in about the time of one. Each line is checked against the
// stored hash of the line before it, so two neighbouring lines can be
// hashed together: the second one's previous hash is read from the
// first one's suffix (domain.StoredHash), not computed.

// pairHashing is whether batch.check hashes lines in pairs: where the
// two-lane assembly runs. Elsewhere each line is hashed where it is
// checked (domain.Line.Prepare), one call fewer. Tests switch it off to
// compare the two.
var pairHashing = sha256x.Accelerated()

// lineSum is a line sealed (its hash suffix found, domain.Seal) and the
// digest of its hash input, computed by checkLines: what checkLine needs
// to check the line's hash without finding the suffix again.
type lineSum struct {
	seal   domain.Sealed
	digest domain.Hash
}

// pairSums sets the digests of the hash inputs of line a after prevA and
// line b after prevB (domain.HashInput), hashed together; ok is false
// when either line has no hash suffix, and so no hash input. The lines
// are read in place: only the blocks where the pieces meet are copied,
// into h; the digests are written where they are kept (Sum2To).
func pairSums(h *sha256x.Hasher, a *lineSum, prevA *domain.Hash, b *lineSum, prevB *domain.Hash) (ok bool) {
	var ma, mb sha256x.Message
	var okA, okB bool
	ma.Head, ma.Body, ma.Tail, okA = a.seal.HashInput(prevA)
	mb.Head, mb.Body, mb.Tail, okB = b.seal.HashInput(prevB)
	if !okA || !okB {
		return false
	}
	h.Sum2To((*[sha256x.Size]byte)(&a.digest), (*[sha256x.Size]byte)(&b.digest), &ma, &mb)
	return true
}

// checkLines checks lines, the first after prev, into items and their
// stored hashes into hashes, hashing them two at a time where pairHashing
// says so. Each line's hash suffix is found once (domain.Seal); the first
// line of a pair has its stored hash decoded once, as the second one's
// previous hash, and checked against its digest as bytes, not hex. As it
// checks them it prefetches the chunk's next piece of lines, if the
// caller set one (c.ahead, lookahead), three parts every two lines.
func checkLines(c *checker, lines [][]byte, prev domain.Hash, items []lineResult, hashes []domain.Hash) {
	i := 0
	if pairHashing {
		p := c.room.pairState()
		p.prev = prev
		var a, b lineSum
		for ; i+1 < len(lines); i += 2 {
			c.ahead.next() // the next piece's bytes, a part a time (lookahead)
			a.seal.Set(lines[i])
			b.seal.Set(lines[i+1])
			// What checkLine returns as line i's hash, zero when it has
			// none: line i+1's previous hash.
			p.mid, _ = a.seal.Stored()
			if pairSums(&p.h, &a, &p.prev, &b, &p.mid) {
				c.ahead.next()
				hashes[i] = checkLine(c, lines[i], p.prev, &items[i], &a)
				c.ahead.next()
				hashes[i+1] = checkLine(c, lines[i+1], p.mid, &items[i+1], &b)
			} else {
				hashes[i] = checkLine(c, lines[i], p.prev, &items[i], nil)
				hashes[i+1] = checkLine(c, lines[i+1], p.mid, &items[i+1], nil)
			}
			p.prev = hashes[i+1]
		}
		prev = p.prev
	}
	for ; i < len(lines); i++ {
		// Three parts of the next piece every two lines, as for a pair.
		c.ahead.next()
		if i&1 == 1 {
			c.ahead.next()
		}
		hashes[i] = checkLine(c, lines[i], prev, &items[i], nil)
		prev = hashes[i]
	}
}

// pairing is what checkLines hashes with: the hasher and the two
// previous hashes of a pair. The hasher's lanes end up in the segments
// the assembly reads, which the compiler cannot follow, so they would
// escape; kept in a room, reused from chunk to chunk, they are allocated
// once per room instead of on every call (some 1 KB for each 64 lines).
type pairing struct {
	h         sha256x.Hasher
	prev, mid domain.Hash
}

// pairState is r's pairing, made the first time it is asked for.
func (r *room) pairState() *pairing {
	if r.pair == nil {
		r.pair = new(pairing)
	}
	return r.pair
}
