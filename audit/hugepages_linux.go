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

// populateAsync starts mapping table's pages for writing on another
// thread (MADV_POPULATE_WRITE, Linux 5.14 and later) and returns a
// channel closed when that is done, or nil when the kernel does not
// offer it (or the table is too small to be worth a thread), for the
// caller to write the pages itself. The kernel maps each page without
// changing what it holds: the table may be written while it works, and a
// page a write reaches first is simply mapped already. A table smaller
// than asyncPopulateMin is mapped here, in one call.
func populateAsync(table []byte) <-chan struct{} {
	const page = 4 << 10
	start := uintptr(unsafe.Pointer(&table[0]))
	from := (start+page-1)&^(page-1) - start
	to := (start+uintptr(len(table)))&^(page-1) - start
	if to <= from || syscall.Madvise(table[from:from+page], madvPopulateWrite) != nil {
		return nil // not offered: EINVAL before Linux 5.14
	}
	done := make(chan struct{})
	if to-from < asyncPopulateMin {
		_ = syscall.Madvise(table[from:to], madvPopulateWrite)
		close(done)
		return done
	}
	go func() {
		defer close(done)
		// An error leaves the rest to be mapped at first touch, as any
		// fresh memory is.
		_ = syscall.Madvise(table[from+page:to], madvPopulateWrite)
	}()
	return done
}

// asyncPopulateMin is the smallest table populateAsync maps on another
// thread: below a few megabytes the wait is shorter than a chunk.
const asyncPopulateMin = 4 << 20

// Linux's MADV_HUGEPAGE and MADV_POPULATE_WRITE.
const (
	madvHugePage      = 14
	madvPopulateWrite = 23
)
