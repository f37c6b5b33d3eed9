//go:build linux

package audit

import (
	"os"
	"syscall"
	"unsafe"
)

// mapFile maps s's file; nil when it is standard input, not a regular
// file, empty or cannot be mapped (the caller then reads it).
func mapFile(s *FileSource) *mappedFile {
	if s.Path == "-" {
		return nil
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return nil
	}
	defer f.Close() // the mapping holds the file
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 || st.Size() != int64(int(st.Size())) {
		return nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	_ = syscall.Madvise(data, syscall.MADV_SEQUENTIAL) // a hint: read ahead
	return &mappedFile{name: s.String(), data: data}
}

// unmap releases the mapping; no line of it may be read after.
func (m *mappedFile) unmap() { _ = syscall.Munmap(m.data) }

// release drops the pages of a mapped block's bytes, and of the
// releaseBehind bytes before it, from the process (its resident size
// would otherwise grow to the whole file): they stay in the page cache,
// and a block still in flight that reads one of them faults it back in,
// unchanged. The mapping is read-only and shared, so nothing is lost.
func (b *exportBlock) release() {
	if len(b.mapped) == 0 {
		return
	}
	page := syscall.Getpagesize()
	lead := (page - int(uintptr(unsafe.Pointer(unsafe.SliceData(b.mapped))))%page) % page
	if n := (len(b.mapped) - lead) &^ (page - 1); n > 0 {
		_ = syscall.Madvise(b.mapped[lead:lead+n], syscall.MADV_DONTNEED)
	}
	b.mapped = nil
}
