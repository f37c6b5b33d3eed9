package audit

import (
	"hash/maphash"
	"math/bits"
	"unsafe"

	"github.com/nats-ledger/ledger/audit/internal/prefetch"
)

// accountKeys is a worker's cache of account ids' keys: a posting names
// two accounts, and a ledger's postings name the same accounts again and
// again, so most of a posting's keyOf calls (two keyed hashes of each id)
// are asked for an id hashed before. A key from the cache is keyOf's for
// the same seeds and id, exactly: a slot holds a short id's bytes (a
// copy, packed in two words with its length, never a view of a chunk's
// line, which the pipeline reuses) and its key, and a lookup takes the key
// only when both words equal the id's. The slot is chosen by a cheap,
// unkeyed function of those words (slotOf): ids that share a slot cost a
// miss each, the keyed hash as before, and nothing else; the keys, and so
// the argument in idKey's comment, do not depend on it.
//
// One per worker goroutine (checkChunks), for one run's seeds; not safe
// for concurrent use.
type accountKeys struct {
	seeds *[2]maphash.Seed
	slots *[accountKeySlots]keySlot
}

// accountKeyBits sizes the cache: 16,384 slots of 32 bytes, 512 KiB a
// worker. Whatever its size, a slot is seldom still in the core's L2 when
// its account comes back (a worker reads megabytes of lines between two
// postings of one account of a ledger of thousands), so the slots are
// prefetched a pair of lines ahead (pendingKeys) and the size buys hits:
// with 10,000 accounts named at random, about three lookups in four hit
// (a slot holds the last of the ids mapped to it). A fixed size: the
// cache never grows with the journal.
const (
	accountKeyBits  = 14
	accountKeySlots = 1 << accountKeyBits
)

// keySlotIDMax is the longest id a slot holds (domain.MaxIDLen is 64):
// its bytes and length packed in two words (packID). A longer id is
// hashed on every posting, as before the cache.
const keySlotIDMax = 15

// keySlot is a cached id, packed (packID), and its key; a zero slot is
// empty (no packed id has a zero length).
type keySlot struct {
	a, b uint64
	key  idKey
}

// use makes the cache one of keys for seeds: the slots are allocated at
// the first use and emptied when the seeds change (a worker's pipeline
// serves one run, so at most once).
func (a *accountKeys) use(seeds *[2]maphash.Seed) {
	switch {
	case a.slots == nil:
		a.slots = new([accountKeySlots]keySlot)
	case a.seeds != seeds:
		clear(a.slots[:])
	}
	a.seeds = seeds
}

// packID packs an id of 1 to keySlotIDMax bytes in two words, one to one:
// a holds its first eight bytes (all of a shorter id), b its next seven
// and, in its top byte, its length; bytes past the id are zero. ok is
// false for an id the cache does not hold.
func packID(id string) (a, b uint64, ok bool) {
	n := len(id)
	switch {
	case n > keySlotIDMax || n == 0:
		return 0, 0, false
	case n >= 8:
		// The last eight bytes, less those a holds too (none past 15).
		a, b = le64(id), le64(id[n-8:])>>(8*(16-n))
	case n >= 4:
		// Two four-byte words that overlap on the same bytes.
		a = uint64(le32(id)) | uint64(le32(id[n-4:]))<<(8*(n-4))
	default:
		a = uint64(id[0]) | uint64(id[n/2])<<(8*(n/2)) | uint64(id[n-1])<<(8*(n-1))
	}
	return a, b | uint64(n)<<56, true
}

// slotOf is the slot of a packed id: its words mixed by a multiply whose
// high bits depend on all of them. Ids of one pattern (acct-0001,
// acct-0002) differ mostly in their last bytes, which b holds. Unkeyed:
// ids chosen to share a slot only cost the keyed hash, as every id did
// before the cache.
func slotOf(a, b uint64) uint64 {
	return ((a ^ bits.RotateLeft64(b, 29)) * 0x9e3779b97f4a7c15) >> (64 - accountKeyBits)
}

// pendingKeysMax bounds the keys a worker leaves pending (pendingKeys):
// those of a pair of lines, two accounts each.
const pendingKeysMax = 4

// pendingKey is an account's key to set from its slot, asked for ahead:
// s is nil for an id the cache does not hold.
type pendingKey struct {
	k    *idKey
	s    *keySlot
	a, b uint64
	id   string
}

// pendingKeys are the account keys a worker's lines asked for, whose
// slots it prefetched (later), and sets a pair of lines later (settle),
// when a pair's hashing has given the slots time to arrive.
type pendingKeys struct {
	keys *accountKeys
	n    int
	of   [pendingKeysMax]pendingKey
}

// later asks for the keys of a posting's two accounts into k, set by the
// next settle; their slots are prefetched now.
func (p *pendingKeys) later(k *[2]idKey, from, to string) {
	if p.n+2 > pendingKeysMax {
		p.settle()
	}
	var addrs [2]uintptr // 0 for an id not cached: a prefetch never faults
	for i, id := range [2]string{from, to} {
		q := &p.of[p.n+i]
		q.k, q.s, q.id = &k[i], nil, id
		if a, b, ok := packID(id); ok {
			q.a, q.b, q.s = a, b, &p.keys.slots[slotOf(a, b)]
			addrs[i] = uintptr(unsafe.Pointer(q.s))
		}
	}
	p.n += 2
	prefetch.Lines(addrs[:])
}

// settle sets every pending key: from its slot when the slot holds its
// id, hashed (keyInto) and kept in the slot otherwise.
func (p *pendingKeys) settle() {
	for i := range p.n {
		q := &p.of[i]
		switch s := q.s; {
		case s == nil:
			keyInto(q.k, p.keys.seeds, q.id)
		case s.a == q.a && s.b == q.b:
			q.k[0], q.k[1] = s.key[0], s.key[1]
		default:
			keyInto(q.k, p.keys.seeds, q.id)
			s.a, s.b, s.key[0], s.key[1] = q.a, q.b, q.k[0], q.k[1]
		}
		q.id = "" // a view of the line, not kept past its chunk
	}
	p.n = 0
}

// le64 is s's first eight bytes, little-endian (one load on amd64).
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// le32 is s's first four bytes, little-endian.
func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}
