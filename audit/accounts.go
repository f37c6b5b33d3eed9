package audit

import "unsafe"

// accountIndex finds an ordinary account by the key of its id (idKey:
// two 64-bit hashes with seeds drawn for the run, as the posted ids are
// kept), which a worker computes ahead of the books (numbers.acct), so
// that the in-order part of a posting finds its two accounts by an
// integer comparison and reads neither the line's bytes nor the
// account's id: an open-addressing table with linear probing, beside
// Books.accounts, which holds the same accounts by id for every other
// event. Two ids would need a 128-bit collision under seeds nobody
// outside the run knows to be taken for one account. A slot takes 24
// bytes and the table stays between 3/8 and 3/4 full: at most about 64
// bytes per account.
type accountIndex struct {
	slots []accountSlot
	n     int
}

// accountSlot is one slot; acc nil marks it empty.
type accountSlot struct {
	key idKey
	acc *accountBook
}

// accountMinSlots is the smallest table; it doubles at 3/4 full (the
// posted-id table's load, postedLoadNum/postedLoadDen).
const accountMinSlots = 1 << 8

// add indexes acc, whose id has key k; the caller adds each account
// once.
func (x *accountIndex) add(k idKey, acc *accountBook) {
	if (x.n+1)*postedLoadDen > len(x.slots)*postedLoadNum {
		x.grow()
	}
	mask := uint64(len(x.slots) - 1)
	i := k[0] & mask
	for x.slots[i].acc != nil {
		i = (i + 1) & mask
	}
	x.slots[i] = accountSlot{key: k, acc: acc}
	x.n++
}

// get returns the account whose id has key k, or nil.
func (x *accountIndex) get(k idKey) *accountBook {
	if len(x.slots) == 0 {
		return nil
	}
	mask := uint64(len(x.slots) - 1)
	for i := k[0] & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.acc == nil {
			return nil
		}
		if s.key == k {
			return s.acc
		}
	}
}

// slotAddr is the address of the slot where a lookup of k starts, for
// engine.prefetch.
func (x *accountIndex) slotAddr(k idKey) uintptr {
	if len(x.slots) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&x.slots[k[0]&uint64(len(x.slots)-1)]))
}

// bookAddrs reads the slot where a lookup of k starts and returns the
// addresses of the first and the last of the fields of the account it
// holds that a posting reads (every cache line they span), for
// engine.prefetch; zeros when it holds none.
func (x *accountIndex) bookAddrs(k idKey) (first, last uintptr) {
	if len(x.slots) == 0 {
		return 0, 0
	}
	acc := x.slots[k[0]&uint64(len(x.slots)-1)].acc
	if acc == nil {
		return 0, 0
	}
	first = uintptr(unsafe.Pointer(acc))
	return first, first + unsafe.Offsetof(acc.status)
}

// grow doubles the table (or makes the first).
func (x *accountIndex) grow() {
	old := x.slots
	x.slots = make([]accountSlot, max(accountMinSlots, 2*len(old)))
	x.n = 0
	for _, s := range old {
		if s.acc != nil {
			x.add(s.key, s.acc)
		}
	}
}
