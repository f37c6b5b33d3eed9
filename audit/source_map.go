package audit

import (
	"bytes"
	"context"
	"os"
)

// Reading an export through a read-only mapping of the file rather than
// read(2): the lines are views of the page cache itself, so no byte of
// the file is copied before the workers hash it. The pipeline maps a
// file only for a run that keeps nothing of a chunk past its consume
// (pipeline's reuse), and unmaps it once every worker is done; standard
// input, anything that is not a regular file, and a file that cannot be
// mapped keep the read path.
//
// A file that shrinks while it is mapped leaves pages of the mapping with
// nothing behind them, and a read of one raises SIGBUS, which would end
// the process. Every goroutine that reads a mapping asks the runtime to
// make such a fault a panic instead (debug.SetPanicOnFault) and turns
// the panic into ErrExportChanged (faultGuard), which ends the run: an
// error, never a crash, and never a report of a file that was not read
// whole.

// mappedFile is an export mapped into memory, a Source in its own right.
type mappedFile struct {
	name string
	data []byte
	file *os.File // held open while mapped (source_mmap_linux.go)
	// released is where the pages dropped from the process end (consumed).
	released int
}

var _ Source = (*mappedFile)(nil)

func (m *mappedFile) String() string { return m.name }

// Read passes the file on in chunks cut exactly where readBlocks cuts
// the same bytes (TestMapBlocksAgreesWithReadBlocks), without copying and
// without cutting their lines: a chunk has its body, not its Lines, and
// is for the pipeline only (its workers cut the lines).
func (m *mappedFile) Read(ctx context.Context, _ uint64, fn func(Chunk) error) error {
	return mapBlocks(ctx, m.data, fn)
}

// mapBlocks is readBlocks over bytes already in memory: each block is
// the line that the block before it cut, then up to fileBlockBytes more.
// Only the room for a chunk's lines comes from blockPool; its bytes are
// data's. It reads only the end of each block, back to the block's last
// '\n': the worker that checks the chunk cuts its body into lines, so
// that the file's bytes are read from memory once, by the core that
// hashes and parses them (docs/BENCHMARKS.md, "Audit, the file reader").
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
		start += len(body)
		rest = end - start
		if len(body) == 0 {
			continue
		}
		bp, _ := blockPool.Get().(*exportBlock)
		if bp == nil {
			bp = &exportBlock{}
		}
		bp.mappedEnd = start
		if err := fn(Chunk{body: body, block: bp}); err != nil {
			return err
		}
	}
	return nil
}

// The pages of the blocks consumed are dropped from the process
// (mappedFile.consumed) once releaseStepBytes of them are, from
// releaseBehind before the last release: a page fault maps the whole
// page-cache folio around the page (up to 2 MiB), so a later block's
// first read maps the last pages of the blocks before it again, after
// they were released. Each release is a system call and a flush of the
// other core's TLB: in steps of 8 MiB, not of each 1 MiB block, there
// are an eighth as many, each walks 2 MiB again where each block walked
// 2 MiB before it again, and the process holds at most 8 MiB more of
// the file (docs/BENCHMARKS.md, "Audit, the file reader").
const (
	releaseStepBytes = 8 << 20
	releaseBehind    = 2 << 20
)
