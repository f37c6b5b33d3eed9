package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/nats-ledger/ledger/domain"
)

// Chunk is a run of consecutive stored journal lines: one journal record,
// or a block of an export file.
type Chunk struct {
	// Position is the record's position in the journal stream; 0 for a
	// file.
	Position uint64
	// FirstSeq and LastSeq are the record's headers, Type its subject's
	// event type; zero for a file, which has no headers.
	FirstSeq, LastSeq uint64
	Type              domain.EventType
	// Lines are the stored event lines, without their '\n'. Their bytes
	// must not change once the chunk is passed on: the audit's events are
	// views of them, not copies.
	Lines [][]byte
	// Err is set when the record is malformed as a whole (see
	// domain.SplitRecord); Lines then holds its non-empty lines.
	Err error

	// block is the export block the lines were cut from, if they were,
	// for the pipeline to hand back to blockPool once nothing refers to
	// them any more.
	block *exportBlock
	// body, when set, is the chunk's bytes not yet cut into Lines: a
	// mapped export's (mapBlocks), which the worker that checks the chunk
	// cuts as it checks them (batch.cutAndCheck), into block's room for
	// lines.
	body []byte
}

// Source reads a journal's stored lines in order.
type Source interface {
	// Read calls fn with consecutive chunks, from the one holding
	// sequence from (or an earlier one: callers skip what they do not
	// need) to the journal's end as it stands when Read is called. A
	// chunk's lines stay as they are after fn returns (the audit checks
	// them later, on other goroutines), unless the chunk's block is handed
	// back (see blockPool). An error from fn stops the read and is
	// returned.
	Read(ctx context.Context, from uint64, fn func(Chunk) error) error
	// String names the source for reports.
	String() string
}

// File limits: an export is read in blocks, and no event line comes near
// the block size (the domain bounds ids, references and metadata to a few
// tens of kilobytes per event). A block has room for the start of the
// line that the block before it cut, blockSlackBytes when it is shorter.
const (
	fileBlockBytes  = 1 << 20
	maxLineBytes    = fileBlockBytes
	blockSlackBytes = 64 << 10
)

// blockPool holds export blocks that an audit is done with. A run
// without OnChunk keeps nothing of a chunk's lines once it has consumed
// the chunk (see pipeline), so it hands the block back, and reading the
// next ones costs neither an allocation nor the garbage collections that
// a megabyte per chunk would bring.
var blockPool sync.Pool // of *exportBlock

// exportBlock is a block of an export and the room for its lines (some
// 40 kB a block, reused with it: garbage that, left to the collector,
// would grow the heap by the lines of every chunk read between two
// collections).
type exportBlock struct {
	data  []byte
	lines [][]byte
	// mappedEnd is where the block's bytes end in the mapped file they
	// are views of (source_map.go); 0 when they are data's.
	mappedEnd int
}

// getBlock returns a block of n bytes, reused when the pool has one big
// enough. Its bytes are whatever they were: the caller overwrites them.
func getBlock(n int) *exportBlock {
	if p, ok := blockPool.Get().(*exportBlock); ok && cap(p.data) >= n {
		p.data = p.data[:n]
		return p
	}
	return &exportBlock{data: make([]byte, n, max(n, fileBlockBytes+blockSlackBytes))}
}

// ErrLineTooLong means an export file has a line longer than maxLineBytes.
var ErrLineTooLong = errors.New("export line longer than 1 MiB")

// FileSource reads an export: JSON Lines, one stored event per line, as
// ledger export writes them. Path "-" is the standard input.
type FileSource struct {
	Path  string
	Stdin io.Reader // read for Path "-"; os.Stdin when nil
}

var _ Source = (*FileSource)(nil)

func (s *FileSource) String() string {
	if s.Path == "-" {
		return "standard input"
	}
	return s.Path
}

// sizeHinter is a source that can say about how many events it holds
// before it is read (Options.SizeHint).
type sizeHinter interface{ sizeHint() uint64 }

// minEventBytes is less than any posting's stored line takes (its fixed
// members, two entries, prev_hash and hash come to some 400 bytes): an
// export's size divided by it is at least its number of postings.
const minEventBytes = 400

// sizeSampleBytes is how much of an export sizeHint reads to learn the
// length of its lines, in sizeSampleWindows windows spread over the file:
// a journal's first lines (its assets and accounts) are shorter than the
// postings after them, and its later ones can be longer (references,
// metadata).
const (
	sizeSampleBytes   = 256 << 10
	sizeSampleWindows = 8
)

// sizeHint estimates the events of a regular file: its size divided by
// the mean length of the whole lines in sizeSampleWindows windows spread
// evenly over it, taken as at least minEventBytes; 0 for standard input
// or anything that is not a regular file. The books' set of posted ids is
// sized for it, so that it neither grows during the run (a growth moves
// every id and briefly holds both tables) nor takes more memory than the
// ids need: every page of it is memory the kernel must find and clear,
// several milliseconds a megabyte here. A file whose unsampled lines are
// shorter than its sampled ones is underestimated, and the set then
// grows, at most a few times.
func (s *FileSource) sizeHint() uint64 {
	if s.Path == "-" {
		return 0
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	size := st.Size()
	window := int64(sizeSampleBytes / sizeSampleWindows)
	sample := make([]byte, window)
	var bytesIn, lines uint64
	for i := range int64(sizeSampleWindows) {
		at := max(0, min(size-window, i*size/sizeSampleWindows))
		n, _ := f.ReadAt(sample, at)
		b, l := wholeLines(sample[:n], at == 0)
		bytesIn, lines = bytesIn+b, lines+l
		if size <= window {
			break // one window holds the file
		}
	}
	mean := uint64(minEventBytes)
	if lines > 0 {
		mean = max(mean, bytesIn/lines)
	}
	return uint64(size) / mean
}

// wholeLines returns the bytes and the number of the whole lines in
// window, a piece of a file that starts at a line when first (the file's
// start), and anywhere otherwise: its bytes up to its first newline are
// then the end of a line it does not hold whole.
func wholeLines(window []byte, first bool) (n, lines uint64) {
	end := bytes.LastIndexByte(window, '\n')
	if end < 0 {
		return 0, 0
	}
	start := 0
	if !first {
		start = bytes.IndexByte(window, '\n') + 1
	}
	if start > end {
		return 0, 0
	}
	return uint64(end + 1 - start), uint64(bytes.Count(window[start:end+1], []byte{'\n'}))
}

// Read reads the whole file, whatever from says: an export holds no index.
func (s *FileSource) Read(ctx context.Context, _ uint64, fn func(Chunk) error) error {
	var r io.Reader
	if s.Path == "-" {
		r = s.Stdin
		if r == nil {
			r = os.Stdin
		}
	} else {
		f, err := os.Open(s.Path)
		if err != nil {
			return fmt.Errorf("export file: %w", err)
		}
		defer f.Close()
		r = f
	}
	return readBlocks(ctx, r, fn)
}

// readBlocks cuts r into chunks of whole lines of about fileBlockBytes.
// Each chunk owns its block, so its lines stay valid after fn returns,
// until the block is handed back to blockPool: readBlocks never touches a
// block again once it has passed it on (the cut line's start is copied
// out first).
func readBlocks(ctx context.Context, r io.Reader, fn func(Chunk) error) error {
	var rest []byte // the start of a line cut at the end of the last block
	for eof := false; !eof; {
		if err := ctx.Err(); err != nil {
			return err
		}
		bp := getBlock(fileBlockBytes + len(rest))
		block := bp.data
		n := copy(block, rest)
		m, err := io.ReadFull(r, block[n:])
		block = block[:n+m]
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			eof = true
		case err != nil:
			return fmt.Errorf("read export: %w", err)
		}
		body := block
		rest = rest[:0]
		if !eof {
			cut := bytes.LastIndexByte(block, '\n')
			if cut < 0 || len(block)-cut-1 > maxLineBytes {
				return ErrLineTooLong
			}
			body, rest = block[:cut+1], append(rest, block[cut+1:]...)
		}
		if len(body) == 0 {
			continue
		}
		bp.lines = appendLines(bp.lines[:0], body)
		if err := fn(Chunk{Lines: bp.lines, block: bp}); err != nil {
			return err
		}
	}
	return nil
}

// splitLines splits data on '\n'. A final '\n' ends the last line rather
// than starting an empty one; empty lines elsewhere are kept (and found
// malformed).
func splitLines(data []byte) [][]byte { return appendLines(nil, data) }

// appendLines is splitLines appending to lines. The readers pass each
// block's room for lines back in, so it grows to a block's lines once and
// is not counted ahead (a second pass over every byte).
func appendLines(lines [][]byte, data []byte) [][]byte {
	lines, _ = cutLines(lines, bytes.TrimSuffix(data, []byte{'\n'}), len(data))
	return lines
}

// cutLines is appendLines a piece at a time: it appends at most n of the
// lines of data, whose final '\n' (if it had one) the caller trimmed, and
// returns the rest of data, still to be cut.
func cutLines(lines [][]byte, data []byte, n int) ([][]byte, []byte) {
	for ; n > 0 && len(data) > 0; n-- {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return append(lines, data), nil
		}
		lines, data = append(lines, data[:i]), data[i+1:]
	}
	return lines, data
}

// lastLine returns the last of the lines appendLines cuts data into, and
// false when it cuts none, reading only that line.
func lastLine(data []byte) ([]byte, bool) {
	data = bytes.TrimSuffix(data, []byte{'\n'})
	if len(data) == 0 {
		return nil, false
	}
	// A '\n' that ends what is left ends the last line, as in cutLines.
	data = bytes.TrimSuffix(data, []byte{'\n'})
	return data[bytes.LastIndexByte(data, '\n')+1:], true
}

// LineSeq reads the sequence at the start of a stored line, which the
// canonical encoding puts first: `{"seq":N,`. It does not decode the rest.
func LineSeq(line []byte) (uint64, bool) {
	const prefix = `{"seq":`
	if !bytes.HasPrefix(line, []byte(prefix)) {
		return 0, false
	}
	rest := line[len(prefix):]
	end := bytes.IndexByte(rest, ',')
	if end <= 0 || end > 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(rest[:end]), 10, 64)
	return n, err == nil
}
