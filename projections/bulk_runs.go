package projections

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// Bounds of a bulk build's runs.
const (
	// bulkChunkBytes bounds the keys and values of the runs held in memory
	// (the chunk's index adds 32 bytes per write, about as much again for
	// the entries of a transfer): past it the chunk is sorted and spilled.
	// 64 MiB is about 600k transfers' entries, index and clock keys.
	bulkChunkBytes = 64 << 20
	// bulkTableBytes bounds one merged table (Pebble's own bottom-level
	// files are of this order); a family larger than it is cut into
	// several tables, which do not overlap.
	bulkTableBytes = 256 << 20
	// spillBufferBytes is each spilled chunk's buffer, writing it and
	// reading it back in the merge: with ~16 chunks per 10M events, the
	// merge holds 4 MiB of buffers.
	spillBufferBytes = 256 << 10
	// chunkSlackBytes is room past bulkChunkBytes for the write that
	// crosses it.
	chunkSlackBytes = 1 << 20
	// runWriteBytesMax bounds one write read back from a spilled chunk:
	// the run families' keys and values are under a kilobyte (ids are
	// bounded by the domain), so a longer length is a damaged file.
	runWriteBytesMax = 16 << 20
)

// runSet gathers the run families' writes of a bulk build: one chunk in
// memory (a sortedBatch, bounded by bulkChunkBytes) and the chunks
// spilled before it, each a file of writes in key order.
type runSet struct {
	tmp        string
	chunkBytes int // the chunk's bound: bulkChunkBytes, or less in tests
	chunk      sortedBatch
	spills     []string
}

func (r *runSet) add(key, val []byte, del bool) error {
	if r.chunk.arena == nil { // its whole bound at once: no growing copies
		r.chunk.arena = make([]byte, 0, r.chunkBytes+chunkSlackBytes)
	}
	if del {
		_ = r.chunk.Delete(key, nil)
	} else {
		_ = r.chunk.Set(key, val, nil)
	}
	if len(r.chunk.arena) >= r.chunkBytes {
		return r.spill()
	}
	return nil
}

// spill sorts the chunk and writes it to a file: per write a flag byte
// (1: delete), the key and the value, each with its uvarint length.
func (r *runSet) spill() error {
	if len(r.chunk.ops) == 0 {
		return nil
	}
	r.chunk.sort()
	path := filepath.Join(r.tmp, "run-"+strconv.Itoa(len(r.spills)))
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bulk build: %w", err)
	}
	w := bufio.NewWriterSize(f, spillBufferBytes)
	var hdr [1 + 2*binary.MaxVarintLen64]byte
	for _, op := range r.chunk.ops {
		key, val := r.chunk.arena[op.key:op.end], r.chunk.arena[op.end:op.val]
		h := hdr[:1]
		h[0] = 0
		if op.del {
			h[0] = 1
		}
		h = binary.AppendUvarint(binary.AppendUvarint(h, uint64(len(key))), uint64(len(val)))
		_, _ = w.Write(h)
		_, _ = w.Write(key)
		_, _ = w.Write(val)
	}
	err = errors.Join(w.Flush(), f.Close())
	if err != nil {
		return fmt.Errorf("bulk build: spill: %w", err)
	}
	r.spills = append(r.spills, path)
	r.chunk.arena, r.chunk.ops = r.chunk.arena[:0], r.chunk.ops[:0]
	return nil
}

// merge spills the last chunk, merges every chunk in key order and writes
// the result to tables made by newTable: for each key only its last write
// survives (later chunks are later in the journal, and a chunk keeps the
// order of its writes), and a key whose last write is a delete is left
// out: the build started from an empty store, so nothing below it needs
// hiding. Each table holds one family and at most about bulkTableBytes.
func (r *runSet) merge(ctx context.Context, newTable func() (*tableFile, error)) ([]*tableFile, error) {
	if err := r.spill(); err != nil {
		return nil, err
	}
	h := &runHeap{}
	defer h.close()
	for i, path := range r.spills {
		src, err := openRun(path, i)
		if err != nil {
			return nil, err
		}
		h.srcs = append(h.srcs, src)
		if err := src.next(); err != nil {
			return nil, err
		}
		if !src.done {
			heap.Push(h, src)
		}
	}
	var out tableOut
	out.newTable = newTable
	for h.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return out.tables, err
		}
		win, err := h.popKey()
		if err != nil {
			return out.tables, err
		}
		if win.del {
			continue
		}
		if err := out.add(win.key, win.val); err != nil {
			return out.tables, err
		}
	}
	return out.tables, nil
}

// close removes nothing (the build's directory goes as a whole); it drops
// the chunk's memory.
func (r *runSet) close() { r.chunk = sortedBatch{} }

// tableOut writes merged keys to tables, one family per table.
type tableOut struct {
	newTable func() (*tableFile, error)
	tables   []*tableFile
	cur      *tableFile
	fam      byte
	bytes    int
}

func (o *tableOut) add(key, val []byte) error {
	if o.cur == nil || key[0] != o.fam || o.bytes >= bulkTableBytes {
		t, err := o.newTable()
		if err != nil {
			return err
		}
		o.cur, o.fam, o.bytes = t, key[0], 0
		o.tables = append(o.tables, t)
	}
	o.bytes += len(key) + len(val)
	if err := o.cur.w.Set(key, val); err != nil {
		return fmt.Errorf("bulk build: write %s: %w", o.cur.path, err)
	}
	return nil
}

// runSrc reads one spilled chunk back.
type runSrc struct {
	f        *os.File
	r        *bufio.Reader
	order    int // the chunk's place in the journal: later wins
	done     bool
	del      bool
	key, val []byte
}

func openRun(path string, order int) (*runSrc, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bulk build: %w", err)
	}
	return &runSrc{f: f, r: bufio.NewReaderSize(f, spillBufferBytes), order: order}, nil
}

// next reads the chunk's next write; done at its end.
func (s *runSrc) next() error {
	flag, err := s.r.ReadByte()
	if err == io.EOF {
		s.done = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("bulk build: read run: %w", err)
	}
	kl, err1 := binary.ReadUvarint(s.r)
	vl, err2 := binary.ReadUvarint(s.r)
	if err := errors.Join(err1, err2); err != nil || kl == 0 || kl+vl > runWriteBytesMax {
		return fmt.Errorf("bulk build: read run: bad lengths: %w", errors.Join(err, errCorruptRow))
	}
	buf := make([]byte, kl+vl) // the heap keeps the previous key while this one is read
	if _, err := io.ReadFull(s.r, buf); err != nil {
		return fmt.Errorf("bulk build: read run: %w", err)
	}
	s.del, s.key, s.val = flag == 1, buf[:kl], buf[kl:]
	return nil
}

// runHeap orders the chunks by their current key, then by their order.
type runHeap struct{ srcs, h []*runSrc }

func (h *runHeap) Len() int { return len(h.h) }
func (h *runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h.h[i].key, h.h[j].key); c != 0 {
		return c < 0
	}
	return h.h[i].order < h.h[j].order
}
func (h *runHeap) Swap(i, j int) { h.h[i], h.h[j] = h.h[j], h.h[i] }
func (h *runHeap) Push(x any)    { h.h = append(h.h, x.(*runSrc)) }
func (h *runHeap) Pop() any {
	x := h.h[len(h.h)-1]
	h.h = h.h[:len(h.h)-1]
	return x
}

// mergedWrite is the last write of one key.
type mergedWrite struct {
	key, val []byte
	del      bool
}

// popKey takes every write of the smallest key and returns the last one.
func (h *runHeap) popKey() (mergedWrite, error) {
	var w mergedWrite
	for h.Len() > 0 && (w.key == nil || bytes.Equal(h.h[0].key, w.key)) {
		src := h.h[0]
		w = mergedWrite{key: src.key, val: src.val, del: src.del}
		if err := src.next(); err != nil {
			return w, err
		}
		if src.done {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
	return w, nil
}

func (h *runHeap) close() {
	for _, s := range h.srcs {
		_ = s.f.Close()
	}
}

// sort puts the batch's writes in key order, writes of one key in the
// order they were made (an earlier write's key is earlier in the arena):
// as stable as slices.SortStableFunc, at the cost of an ordinary sort.
func (s *sortedBatch) sort() {
	slices.SortFunc(s.ops, func(x, y sortedOp) int {
		if c := bytes.Compare(s.arena[x.key:x.end], s.arena[y.key:y.end]); c != 0 {
			return c
		}
		return x.key - y.key
	})
}
