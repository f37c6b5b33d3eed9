package audit

import (
	"bytes"
	"context"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/nats-ledger/ledger/audit/internal/prefetch"
	"github.com/nats-ledger/ledger/domain"
)

// batch is a chunk on its way through the pipeline: the reader fills in
// prev, a worker fills in items and closes done.
type batch struct {
	Chunk
	room              // the worker's results: items, hashes, events
	prev  domain.Hash // the stored hash of the line before this chunk's first
	seeds *[2]maphash.Seed
	// compact: postings the posting reader takes need no event
	// (checker.compact).
	compact bool
	done    chan struct{}
	fault   error // ErrExportChanged when reading the chunk's mapped lines faulted
}

// check checks the chunk's lines into items (two at a time, see
// checkLines), reusing room from free when there is some; a chunk with a
// body has its lines cut here first.
func (b *batch) check(free <-chan room) {
	select {
	case b.room = <-free:
	default:
	}
	c := makeChecker(b.seeds, b.compact, &b.room)
	if b.body != nil {
		b.cutAndCheck(&c)
	} else {
		b.size(len(b.Lines))
		checkLines(&c, b.Lines, b.prev, b.items, b.hashes)
	}
	close(b.done)
}

// cutPieceLines is how many lines a worker cuts from a chunk's body
// before it checks them: some 40 kB of the bench ledger's lines, which
// stay in the core's caches from the cut (their bytes' first read from
// memory) to the hash and the posting reader just after. Even, so that
// the lines pair for hashing as they would in one call of checkLines.
const cutPieceLines = 64

// cutAndCheck cuts the chunk's body into its Lines (those appendLines
// would cut) and checks them, cutPieceLines at a time, into room made for
// them as they are counted.
func (b *batch) cutAndCheck(c *checker) {
	body := bytes.TrimSuffix(b.body, []byte{'\n'})
	lines, data := b.block.lines[:0], body
	prev := b.prev
	b.size(0)
	for len(data) > 0 {
		from, left := len(lines), len(data)
		lines, data = cutLines(lines, data, cutPieceLines)
		// The next piece, about as long as this one, brought in while
		// this one is checked.
		c.ahead.set(data[:min(len(data), left-len(data))])
		// The lines to come, guessed at the mean length of those cut.
		more := len(data) / max(1, (len(body)-len(data))/len(lines))
		b.extend(len(lines), more)
		checkLines(c, lines[from:], prev, b.items[from:], b.hashes[from:])
		prev = b.hashes[len(lines)-1] // what checkLines would carry on with
	}
	b.Lines, b.block.lines = lines, lines
}

// lookahead is the bytes of a chunk's next piece, prefetched a part at a
// time (next) while a worker checks the piece before it, so that its cut
// (each line's first read of the file's bytes) finds them in the core's
// caches, not in memory: the cut was a twentieth of the run's CPU time,
// waiting on memory, where the checks wait on the SHA unit and leave the
// memory idle (docs/BENCHMARKS.md, "The worker's stage around the reader
// and SHA-256"). The first prefetch of a piece is its first part, before
// the first pair of lines is hashed.
type lookahead struct {
	rest []byte // the bytes not yet prefetched
	step int    // bytes a part: a multiple of 64, a cache line
	// touched takes the bytes set reads: loads that the compiler keeps.
	touched byte
}

// lookaheadParts is how many parts a piece is prefetched in: checkLines
// prefetches one before a pair's hash and one before each of its lines'
// checks. A piece is some 40 kB: some 420 bytes, seven prefetches, at a
// time, where 40 kB at once would hold every miss buffer of the core for
// as long as memory takes to fill them, stalling the checks behind.
const lookaheadParts = cutPieceLines / 2 * 3

// set makes ahead the bytes to prefetch, the next ones after the bytes
// just cut. A prefetch of a page not mapped yet is dropped, so set first
// reads a byte of each faultAroundBytes window of the mapping that ahead
// reaches past the one the cut ended in: the fault maps the page cache's
// pages of the whole window (the kernel's fault-around), which the cut
// would otherwise fault in itself, with its first read of them. A piece
// is most often within two windows, and the second one needs one load.
// The read is of the chunk's own bytes, in the worker that checks them:
// a fault of a file that shrank is the batch's (checkMapped), as its
// cut's would be.
func (l *lookahead) set(ahead []byte) {
	l.rest = ahead
	if len(ahead) == 0 {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(ahead)))
	// The window of the byte before ahead, the cut's last, is mapped.
	for at := ((start-1)/faultAroundBytes + 1) * faultAroundBytes; at-start < uintptr(len(ahead)); at += faultAroundBytes {
		l.touched += ahead[at-start]
	}
	l.step = (len(ahead)/lookaheadParts + 64) &^ 63 // at least a line
}

// faultAroundBytes is how much of a file's mapping a page fault maps at
// once (Linux's fault_around_bytes, by default), aligned to as much: a
// system that maps less leaves some of the prefetches dropped, and the
// cut faults those pages in as it did.
const faultAroundBytes = 64 << 10

// next prefetches the next part of the bytes set, if any are left.
func (l *lookahead) next() {
	if len(l.rest) != 0 {
		l.part()
	}
}

// part is next's prefetch, kept out of line so that next, called three
// times a pair, inlines to a length's test.
//
//go:noinline
func (l *lookahead) part() {
	n := min(l.step, len(l.rest))
	prefetch.Bytes(l.rest[:n])
	l.rest = l.rest[n:]
}

// extend makes room for n lines, at least as many as it has, keeping the
// records of those it has, and when it must grow, room for more lines
// besides: a body's lines are counted only as they are cut, and a room
// sized once for the block's lines leaves no garbage behind. A room is
// reused from chunk to chunk, so it soon holds a block's lines and stops
// growing; a block's bytes bound its lines, as for size.
func (r *room) extend(n, more int) {
	if n > cap(r.items) {
		r.items = slices.Grow(r.items, n+more-len(r.items))
	}
	if n > cap(r.hashes) {
		r.hashes = slices.Grow(r.hashes, n+more-len(r.hashes))
	}
	r.items, r.hashes = r.items[:n], r.hashes[:n]
}

// Pipeline bounds: chunks queued per worker, waiting for one and waiting
// to be consumed in order. A chunk is at most a 1 MiB block or a journal
// record, and its checked lines take about twice its size when each has
// its event (1,088 bytes a line, room), a third of it when postings have
// none (192 bytes), so memory stays within some 15 MB per worker.
const (
	workQueuePerWorker    = 2
	orderedQueuePerWorker = 4
)

// pipeline reads src from sequence from and checks every line on workers
// goroutines, each line against the stored hash of the line before it
// (which needs nothing but the two lines, so any chunk can be checked on
// any core); consume gets the chunks back in journal order, one at a
// time. An error from consume stops the read and is returned. With
// reuse, nothing of a batch (its items, the events in them, the lines
// their strings are views of) outlives consume's return, and its room and
// its export block are reused for later chunks; without, they are
// consume's to keep. With compact (and reuse), the postings the posting
// reader takes have no event, only their records (lineResult).
func pipeline(ctx context.Context, src Source, from uint64, workers int, seeds *[2]maphash.Seed, reuse, compact bool, consume func(*batch) error) (err error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var m *mappedFile
	if fs, ok := src.(*FileSource); ok && reuse {
		if m = mapFile(fs); m != nil {
			// Unmapped last: after every worker is done (below).
			defer m.unmap()
			src = m
			defer guardFaults()()
			defer func() {
				if m.shrank() {
					err = ErrExportChanged // whatever else the run saw
				}
			}()
		}
	}
	mapped := m != nil
	var running sync.WaitGroup // the workers
	defer running.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *batch, workers*workQueuePerWorker)
	ordered := make(chan *batch, workers*orderedQueuePerWorker)
	// Room for the items of every batch that can be in flight at once:
	// those queued in order, the one consumed and the one the reader holds.
	free := make(chan room, workers*orderedQueuePerWorker+2)
	readErr := make(chan error, 1)
	go func() {
		defer close(ordered)
		defer close(work)
		readErr <- readChunks(ctx, src, from, &batch{seeds: seeds, compact: compact && reuse}, mapped, work, ordered)
	}()
	running.Add(workers)
	for range workers {
		go func() {
			defer running.Done()
			checkChunks(work, free, mapped)
		}()
	}
	for b := range ordered {
		<-b.done
		err := b.fault
		switch {
		case err != nil:
		case mapped:
			err = consumeGuarded(consume, b)
		default:
			err = consume(b)
		}
		if err != nil {
			cancel()
			for range ordered { // let the reader see the cancellation and close
			}
			<-readErr
			return err
		}
		if reuse {
			select {
			case free <- b.room:
			default:
			}
			b.room = room{}
			if b.block != nil {
				if mapped {
					m.consumed(b.block.mappedEnd)
				}
				blockPool.Put(b.block)
				b.block = nil
			}
		}
	}
	return <-readErr
}

// readChunks reads src from sequence from into batches, each passed to
// work (to be checked) and to ordered (to be consumed in order). With
// mapped, src is a mapping that it reads in this goroutine (to cut the
// lines), and a fault is ErrExportChanged (fault.go). Each batch takes
// like's seeds and compact.
func readChunks(ctx context.Context, src Source, from uint64, like *batch, mapped bool, work, ordered chan<- *batch) (err error) {
	if mapped {
		guardFaults()
		defer faultGuard(&err)
	}
	var prev domain.Hash
	return src.Read(ctx, from, func(c Chunk) error {
		b := &batch{Chunk: c, prev: prev, seeds: like.seeds, compact: like.compact, done: make(chan struct{})}
		if n := len(c.Lines); n > 0 {
			prev, _ = domain.StoredHash(c.Lines[n-1])
		} else if last, ok := lastLine(c.body); ok {
			prev, _ = domain.StoredHash(last)
		}
		select {
		case work <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case ordered <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
}

// checkChunks is a worker: it checks the batches of work until it is
// closed. With mapped, their lines are a mapping's (see readChunks).
func checkChunks(work <-chan *batch, free <-chan room, mapped bool) {
	if mapped {
		guardFaults()
	}
	for b := range work {
		b.checkGuarded(free, mapped)
		// The batch made the consumer ready, most often on this core: let
		// it run now rather than when this worker next blocks (or at the
		// end of the scheduler's 10 ms slice), so that the in-order part
		// keeps pace and the queues do not fill and stop the reader.
		runtime.Gosched()
	}
}

// checkGuarded is check for a worker; with mapped, a fault while it
// reads the chunk's lines is the batch's fault, and done is closed all
// the same.
func (b *batch) checkGuarded(free <-chan room, mapped bool) {
	if !mapped {
		b.check(free)
		return
	}
	if err := b.checkMapped(free); err != nil {
		b.fault = err
		close(b.done) // check stopped before it closed done
	}
}

func (b *batch) checkMapped(free <-chan room) (err error) {
	defer faultGuard(&err)
	b.check(free)
	return nil
}

// consumeGuarded is consume(b), a fault while it reads b's lines
// (pipeline set the goroutine to panic on one when they are a mapping's)
// made ErrExportChanged.
func consumeGuarded(consume func(*batch) error, b *batch) (err error) {
	defer faultGuard(&err)
	return consume(b)
}

// compactPostings, when false, gives every posting its event, as runs
// with a read model or OnChunk have: the differential tests audit each
// journal both ways.
var compactPostings = true
