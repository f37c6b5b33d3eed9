package audit

import "unsafe"

// makeTable returns a zeroed table of n slots whose pages are mapped for
// writing ahead of its use, on huge pages where the kernel gives them
// (adviseHugePages). A fresh table's pages are mapped by the kernel at
// their first touch; touched first by a lookup's read (postedIDs.put
// probes before it writes; a prefetch does not map a page), a page is
// mapped to the shared zero page and faults again at the first write, and the second fault also flushes the page from
// every core's TLB. Where the kernel can map them for writing while the
// table is in use (populateAsync), that happens on another thread, so
// that the run does not wait for tens of megabytes to be cleared before
// its first line; elsewhere each page is written here, once, in order, so
// that it faults once, before the run.
func makeTable[T any](n int) []T {
	slots := make([]T, n)
	if n == 0 {
		return slots
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&slots[0])), uintptr(n)*unsafe.Sizeof(slots[0]))
	adviseHugePages(b)
	if populateAsync(b) == nil {
		const page = 4 << 10
		for i := 0; i < len(b); i += page {
			b[i] = 0
		}
	}
	return slots
}
