//go:build linux

package audit

import (
	"syscall"
	"unsafe"
)

// adviseHugePages asks the kernel to back table's memory with huge pages
// (MADV_HUGEPAGE; transparent huge pages are commonly enabled "on
// madvise" only). A table of tens of megabytes probed at random then
// takes one fault per 2 MiB instead of one per 4 KiB page, and its
// lookups stop missing the TLB on nearly every probe. It is advice: when
// the kernel refuses it, or has no huge page to give, the table works as
// before.
func adviseHugePages(table []byte) {
	const huge = 2 << 20
	if len(table) < 2*huge {
		return
	}
	// madvise takes whole pages: the huge pages wholly inside the table.
	start := uintptr(unsafe.Pointer(&table[0]))
	from := (start+huge-1)&^(huge-1) - start
	to := (start+uintptr(len(table)))&^(huge-1) - start
	if to > from {
		_ = syscall.Madvise(table[from:to], madvHugePage)
	}
}

// madvHugePage is Linux's MADV_HUGEPAGE.
const madvHugePage = 14
