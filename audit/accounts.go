package audit

import "hash/maphash"

// accountIndex finds an ordinary account by the hash of its id, which a
// worker computes ahead of the books (numbers.acct), so that the in-order
// part of a posting looks its two accounts up by an integer: an
// open-addressing table with linear probing, beside Books.accounts, which
// holds the same accounts by id for every other event. The id is always
// compared, so two ids with one hash are two entries, never one account
// taken for another. A slot takes 16 bytes and the table stays between
// 3/8 and 3/4 full: at most about 43 bytes per account.
type accountIndex struct {
	slots []accountSlot
	n     int
}

// accountSlot is one slot; acc nil marks it empty.
type accountSlot struct {
	hash uint64
	acc  *accountBook
}

// accountMinSlots is the smallest table; it doubles at 3/4 full (the
// posted-id table's load, postedLoadNum/postedLoadDen).
const accountMinSlots = 1 << 8

// accountHash is the hash that the index keys an account id by: the same
// seeds as the transfer ids' keys, drawn for the run.
func accountHash(seeds *[2]maphash.Seed, id string) uint64 {
	return maphash.String(seeds[0], id)
}

// add indexes acc, whose id has hash h; the caller adds each account
// once.
func (x *accountIndex) add(h uint64, acc *accountBook) {
	if (x.n+1)*postedLoadDen > len(x.slots)*postedLoadNum {
		x.grow()
	}
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i].acc != nil {
		i = (i + 1) & mask
	}
	x.slots[i] = accountSlot{hash: h, acc: acc}
	x.n++
}

// get returns the account id, whose hash is h, or nil.
func (x *accountIndex) get(h uint64, id string) *accountBook {
	if len(x.slots) == 0 {
		return nil
	}
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.acc == nil {
			return nil
		}
		if s.hash == h && s.acc.id == id {
			return s.acc
		}
	}
}

// grow doubles the table (or makes the first).
func (x *accountIndex) grow() {
	old := x.slots
	x.slots = make([]accountSlot, max(accountMinSlots, 2*len(old)))
	x.n = 0
	for _, s := range old {
		if s.acc != nil {
			x.add(s.hash, s.acc)
		}
	}
}
