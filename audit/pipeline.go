package audit

import (
	"context"
	"hash/maphash"
	"runtime"

	"github.com/nats-ledger/ledger/domain"
)

// batch is a chunk on its way through the pipeline: the reader fills in
// prev, a worker fills in items and closes done.
type batch struct {
	Chunk
	prev  domain.Hash // the stored hash of the line before this chunk's first
	seeds *[2]maphash.Seed
	items []lineResult
	done  chan struct{}
}

// check checks the chunk's lines into items (two at a time, see
// checkLines), reusing room from free when there is some.
func (b *batch) check(free <-chan []lineResult) {
	select {
	case b.items = <-free:
	default:
	}
	if cap(b.items) < len(b.Lines) {
		b.items = make([]lineResult, len(b.Lines))
	}
	b.items = b.items[:len(b.Lines)]
	checkLines(b.Lines, b.prev, b.items, b.seeds)
	close(b.done)
}

// Pipeline bounds: chunks queued per worker, waiting for one and waiting
// to be consumed in order. A chunk is at most a 1 MiB block or a journal
// record, and its checked lines (lineResult, events included) take about
// 1.4 times its size, so memory stays within some 15 MB per worker.
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
// consume's to keep.
func pipeline(ctx context.Context, src Source, from uint64, workers int, seeds *[2]maphash.Seed, reuse bool, consume func(*batch) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *batch, workers*workQueuePerWorker)
	ordered := make(chan *batch, workers*orderedQueuePerWorker)
	// Room for the items of every batch that can be in flight at once:
	// those queued in order, the one consumed and the one the reader holds.
	free := make(chan []lineResult, workers*orderedQueuePerWorker+2)
	readErr := make(chan error, 1)
	go func() {
		defer close(ordered)
		defer close(work)
		var prev domain.Hash
		readErr <- src.Read(ctx, from, func(c Chunk) error {
			b := &batch{Chunk: c, prev: prev, seeds: seeds, done: make(chan struct{})}
			if n := len(c.Lines); n > 0 {
				prev = storedHash(c.Lines[n-1])
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
	}()
	for range workers {
		go func() {
			for b := range work {
				b.check(free)
				// The batch made the consumer ready, most often on this
				// core: let it run now rather than when this worker next
				// blocks (or at the end of the scheduler's 10 ms slice),
				// so that the in-order part keeps pace and the queues do
				// not fill and stop the reader.
				runtime.Gosched()
			}
		}()
	}
	for b := range ordered {
		<-b.done
		if err := consume(b); err != nil {
			cancel()
			for range ordered { // let the reader see the cancellation and close
			}
			<-readErr
			return err
		}
		if reuse {
			select {
			case free <- b.items:
			default:
			}
			b.items = nil
			if b.block != nil {
				blockPool.Put(b.block)
				b.block = nil
			}
		}
	}
	return <-readErr
}
