package audit

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestPrefetchBasesAgree: the slot addresses engine.prefetchSlots takes
// from a table's base read once a group (postedBase, indexBase) are the
// slots where the tables' lookups start (postedIDs.slot at the key's home,
// accountIndex.get at its first word under the mask), for random keys and
// tables of several lengths.
func TestPrefetchBasesAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	for _, n := range []uint64{1, 1000, 1_740_935, 4 << 20} {
		p := newPostedIDs(n)
		var x accountIndex
		for range n % 5000 {
			x.add(idKey{rng.Uint64(), rng.Uint64()}, x.books.alloc())
		}
		pb, xb := p.base(), x.base()
		if xb.ok() != (len(x.slots) > 0) {
			t.Fatalf("%d: index base ok %v with %d slots", n, xb.ok(), len(x.slots))
		}
		for range 10_000 {
			k := idKey{rng.Uint64(), rng.Uint64()}
			if got, want := pb.slotAddr(k[0]), uintptr(unsafe.Pointer(&p.slots[p.home(k[0])])); got != want {
				t.Fatalf("%d: posted slot %#x, want %#x", n, got, want)
			}
			if xb.ok() {
				if got, want := xb.slotAddr(k[0]), uintptr(unsafe.Pointer(&x.slots[k[0]&uint64(len(x.slots)-1)])); got != want {
					t.Fatalf("%d: index slot %#x, want %#x", n, got, want)
				}
			}
		}
	}
}
