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

// pairSums returns the digests of the hash inputs of line a after prevA
// and line b after prevB (domain.HashInput), hashed together; ok is false
// when either line has no hash suffix, and so no hash input. The lines
// are read in place: only the blocks where the pieces meet are copied.
func pairSums(a []byte, prevA *domain.Hash, b []byte, prevB *domain.Hash) (sa, sb domain.Hash, ok bool) {
	headA, bodyA, tailA, okA := domain.HashInput(prevA, a)
	headB, bodyB, tailB, okB := domain.HashInput(prevB, b)
	if !okA || !okB {
		return sa, sb, false
	}
	sa, sb = sha256x.Sum2(sha256x.Message{Head: headA, Body: bodyA, Tail: tailA},
		sha256x.Message{Head: headB, Body: bodyB, Tail: tailB})
	return sa, sb, true
}

// checkLines checks lines, the first after prev, into items and their
// stored hashes into hashes, hashing them two at a time where pairHashing
// says so.
func checkLines(c *checker, lines [][]byte, prev domain.Hash, items []lineResult, hashes []domain.Hash) {
	i := 0
	if pairHashing {
		for ; i+1 < len(lines); i += 2 {
			// What checkLine returns as line i's hash, zero when it has
			// none: line i+1's previous hash.
			mid, _ := domain.StoredHash(lines[i])
			sa, sb, ok := pairSums(lines[i], &prev, lines[i+1], &mid)
			if ok {
				hashes[i] = checkLine(c, lines[i], prev, &items[i], &sa)
				hashes[i+1] = checkLine(c, lines[i+1], mid, &items[i+1], &sb)
			} else {
				hashes[i] = checkLine(c, lines[i], prev, &items[i], nil)
				hashes[i+1] = checkLine(c, lines[i+1], mid, &items[i+1], nil)
			}
			prev = hashes[i+1]
		}
	}
	for ; i < len(lines); i++ {
		hashes[i] = checkLine(c, lines[i], prev, &items[i], nil)
		prev = hashes[i]
	}
}
