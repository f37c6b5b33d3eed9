//go:build linux

package audit

import (
	"os"
	"syscall"
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
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 || st.Size() != int64(int(st.Size())) {
		f.Close()
		return nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil
	}
	_ = syscall.Madvise(data, syscall.MADV_SEQUENTIAL) // a hint: read ahead
	return &mappedFile{name: s.String(), data: data, file: f}
}

// unmap releases the mapping and the file; no line of it may be read
// after.
func (m *mappedFile) unmap() {
	_ = syscall.Munmap(m.data)
	m.file.Close()
}

// shrank reports whether the file is now shorter than its mapping (or
// cannot be looked at): then what was read of the mapping is not the
// file. A read past its end faults (ErrExportChanged, fault.go), but a
// read racing with the truncation can also see the pages being cut as
// zeros, which make a line that is too long or malformed instead.
func (m *mappedFile) shrank() bool {
	st, err := m.file.Stat()
	return err != nil || st.Size() < int64(len(m.data))
}

// consumed notes that the in-order part is done with the mapping's bytes
// before end, and drops the pages of those bytes from the process (its
// resident size would otherwise grow to the whole file) once
// releaseStepBytes of them are not yet dropped, from releaseBehind before
// the last drop. They stay in the page cache, and a block still in flight
// that reads one of them faults it back in, unchanged: the mapping is
// read-only and shared, so nothing is lost.
func (m *mappedFile) consumed(end int) {
	if end-m.released < releaseStepBytes {
		return
	}
	// The mapping starts on a page: whole pages of it, the one end is in
	// (and the next block's start) kept.
	page := syscall.Getpagesize()
	from, to := max(0, m.released-releaseBehind)&^(page-1), end&^(page-1)
	_ = syscall.Madvise(m.data[from:to], syscall.MADV_DONTNEED)
	m.released = to
}
