package audit

import "unsafe"

// makeTable returns a zeroed table of n slots whose pages are all mapped,
// on huge pages where the kernel gives them (adviseHugePages). A fresh
// table's pages are mapped by the kernel at their first touch; touched
// first by a lookup's read (engine.prefetch reads ahead), a page is mapped
// to the shared zero page and faults again at the first write, and the
// second fault also flushes the page from every core's TLB. Written here,
// once per page, in order, each page faults once, before the run.
func makeTable[T any](n int) []T {
	slots := make([]T, n)
	if n == 0 {
		return slots
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&slots[0])), uintptr(n)*unsafe.Sizeof(slots[0]))
	adviseHugePages(b)
	const page = 4 << 10
	for i := 0; i < len(b); i += page {
		b[i] = 0
	}
	return slots
}
