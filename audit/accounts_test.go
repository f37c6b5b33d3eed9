package audit

import (
	"testing"
	"unsafe"
)

// TestBookSlabStartsBooksOnACacheLine holds bookSlab to what
// engine.prefetch assumes: every book starts on a cache line, so what a
// posting reads of it lies in its first bookLines lines.
func TestBookSlabStartsBooksOnACacheLine(t *testing.T) {
	var s bookSlab
	for i := range 3*bookChunk + 7 {
		acc := s.alloc()
		if at := uintptr(unsafe.Pointer(acc)); at%cacheLine != 0 {
			t.Fatalf("book %d at %#x, not on a cache line", i, at)
		}
		if acc.num != uint32(i) || s.at(acc.num) != acc {
			t.Fatalf("book %d numbered %d", i, acc.num)
		}
	}
}
