package audit

import (
	"unsafe"

	"github.com/nats-ledger/ledger/domain"
)

// accountBook is an account as the books recompute it. What a posting
// reads and writes is its first cache line (bookSlab starts every book on
// a line), which engine.prefetch brings in ahead (accountIndex.bookAhead):
// the key it is found by, its asset, both balances, the last sequence
// that moved it, and flags that say when the rest need be read at all.
// A posting reads the second line only when the account has a lower
// limit other than zero (floorSet) or its last entry drifted (drifted);
// findings, other events and the read model read the rest.
type accountBook struct {
	key0      uint64        // its id's key's first word (accountIndex)
	asset     *assetBook    // 8
	balance   domain.Amount // 16: recomputed
	stated    domain.Amount // 32: as the last entry states it
	lastSeq   uint64        // 48
	tag       uint32        // 56: its id's key's tag (tagOf; accountIndex)
	status    byte          // 60: bookOpen, frozen or closed (books_lifecycle.go)
	unlimited bool          // no lower limit (floor unused)
	floorSet  bool          // limited, by a floor other than zero (setFloor)
	drifted   bool          // drift is not zero (setDrift)

	drift      domain.Amount // 64, the second line: stated - balance after the last entry
	floor      domain.Amount // the lowest balance allowed, unless unlimited
	id         string
	limit      string // as journaled: "unlimited" for the issuer
	createdSeq uint64
	mark       uint64 // read-model comparison: set when the read model has it
	num        uint32 // its number in the slab (bookSlab)
	_          [accountBookPad]byte
}

// accountBookSize is a book's size: three cache lines, the first for
// what a posting reads, the others for the rest; accountBookPad fills it.
const (
	accountBookSize = 3 * cacheLine
	accountBookPad  = 44
)

// Compile-time checks: a book is accountBookSize bytes, and what a
// posting reads ends within its first bookLines lines.
var (
	_ [accountBookSize - unsafe.Sizeof(accountBook{})]struct{}
	_ [unsafe.Sizeof(accountBook{}) - accountBookSize]struct{}
	_ [bookLines*cacheLine - unsafe.Offsetof(accountBook{}.drifted) - 1]struct{}
)

// issuer makes acc the issuer (world) or FX account id of as, defined
// at seq.
func (acc *accountBook) issuer(id string, as *assetBook, seq uint64) {
	acc.id, acc.asset, acc.limit, acc.createdSeq, acc.lastSeq = id, as, domain.Unlimited, seq, seq
	acc.setFloor(true, domain.Amount{})
}

// is reports whether acc is the account whose id has key k: by the key's
// first word and its tag, 96 bits (see accountIndex).
func (acc *accountBook) is(k idKey) bool { return acc.key0 == k[0] && acc.tag == tagOf(k) }

// setFloor sets acc's lower limit: none when unlimited, else floor.
func (acc *accountBook) setFloor(unlimited bool, floor domain.Amount) {
	acc.unlimited, acc.floor, acc.floorSet = unlimited, floor, !unlimited && !floor.IsZero()
}

// belowFloor reports whether acc's balance is below its lower limit,
// reading the floor only when it is not zero.
func (acc *accountBook) belowFloor() bool {
	if acc.floorSet {
		return acc.balance.Cmp(acc.floor) < 0
	}
	return !acc.unlimited && acc.balance.Sign() < 0
}

// setDrift sets what acc's last entry stated over its recomputed balance.
func (acc *accountBook) setDrift(d domain.Amount) { acc.drift, acc.drifted = d, !d.IsZero() }
