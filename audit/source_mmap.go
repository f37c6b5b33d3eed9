package audit

import (
	"bytes"
	"context"
	"os"
	"syscall"
	"unsafe"
)

// Reading an export through a read-only mapping of the file rather than
// read(2): the lines are views of the page cache itself, so no byte of
// the file is copied before the workers hash it. The pipeline maps a
// file only for a run that keeps nothing of a chunk past its consume
// (pipeline's reuse), and unmaps it once every worker is done; standard
// input, anything that is not a regular file, and a file that cannot be
// mapped keep the read path.

// mappedFile is an export mapped into memory, a Source in its own right.
type mappedFile struct {
	name string
	data []byte
}

var _ Source = (*mappedFile)(nil)

func (m *mappedFile) String() string { return m.name }

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

// Read passes the file on in chunks cut exactly where readBlocks cuts
// the same bytes (TestMapBlocksAgreesWithReadBlocks), without copying.
func (m *mappedFile) Read(ctx context.Context, _ uint64, fn func(Chunk) error) error {
	return mapBlocks(ctx, m.data, fn)
}

// mapBlocks is readBlocks over bytes already in memory: each block is
// the line that the block before it cut, then up to fileBlockBytes more.
// Only the room for a chunk's lines comes from blockPool; its bytes are
// data's.
func mapBlocks(ctx context.Context, data []byte, fn func(Chunk) error) error {
	start, rest := 0, 0 // the block starts at start, with rest bytes of a cut line
	for eof := false; !eof; {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := start + rest + fileBlockBytes
		if end > len(data) {
			end, eof = len(data), true
		}
		body := data[start:end]
		if !eof {
			cut := bytes.LastIndexByte(body, '\n')
			if cut < 0 || len(body)-cut-1 > maxLineBytes {
				return ErrLineTooLong
			}
			body = body[:cut+1]
		}
		from := start
		start += len(body)
		rest = end - start
		if len(body) == 0 {
			continue
		}
		bp, _ := blockPool.Get().(*exportBlock)
		if bp == nil {
			bp = &exportBlock{}
		}
		bp.lines = appendLines(bp.lines[:0], body)
		bp.mapped = data[max(0, from-releaseBehind):start]
		if err := fn(Chunk{Lines: bp.lines, block: bp}); err != nil {
			return err
		}
	}
	return nil
}

// releaseBehind is how far before its block a mapped block's release
// reaches: a page fault maps the whole page-cache folio around the page
// (up to 2 MiB), so a later block's first read maps the last pages of
// the blocks before it again, after they were released.
const releaseBehind = 2 << 20

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
