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

func (b *batch) check() {
	b.items = make([]lineResult, len(b.Lines))
	prev := b.prev
	for i, line := range b.Lines {
		checkLine(line, prev, &b.items[i], b.seeds)
		prev = b.items[i].hash
	}
	close(b.done)
}

// Pipeline bounds: chunks queued per worker, waiting for one and waiting
// to be consumed in order. A chunk is at most a 1 MiB block or a journal
// record, so memory stays within a few megabytes per worker.
const (
	workQueuePerWorker    = 2
	orderedQueuePerWorker = 4
)

// pipeline reads src from sequence from and checks every line on workers
// goroutines, each line against the stored hash of the line before it
// (which needs nothing but the two lines, so any chunk can be checked on
// any core); consume gets the chunks back in journal order, one at a
// time. An error from consume stops the read and is returned.
func pipeline(ctx context.Context, src Source, from uint64, workers int, seeds *[2]maphash.Seed, consume func(*batch) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *batch, workers*workQueuePerWorker)
	ordered := make(chan *batch, workers*orderedQueuePerWorker)
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
				b.check()
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
	}
	return <-readErr
}
