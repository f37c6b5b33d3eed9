package commands

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/nats-ledger/ledger/domain"
)

// A rebuild runs on every core. Preparing a line (domain.Line.Prepare: the
// SHA-256 chain check and the parsing) is the larger half of the work, and
// it needs nothing from the lines before except the previous line's hash,
// which is stored at the end of that line. So records are prepared in
// parallel, each from the hash stored at the end of the record before, by
// one worker per core, while one goroutine applies the prepared lines in
// journal order (domain.Replayer). Each line is still checked against the
// hash stored before it and its own stored hash against its content, so
// the chain is verified link by link exactly as ReadEvents verifies it,
// and the first line that fails, in journal order, is the one reported.
// The state is only touched by the applying goroutine, and handed back
// once it has finished.

// rebuildQueueRecords bounds the records read ahead of the one being
// applied (each up to the journal's record size limit).
const rebuildQueueRecords = 16

// replayCapacity is the hot set's capacity during a replay: half as much
// again as the processor's, so that the tail after a snapshot (at most
// SnapshotEvery events, half the capacity by default) is replayed without
// an eviction on the start-up's path; the processor's first loop then
// evicts with the archive write aside, as it does while deciding. A full
// replay still evicts as it goes, so memory stays bounded by 1.5 times
// the capacity during a start-up.
func replayCapacity(hot int) int { return hot + hot/2 }

// preparedRecord is a record on its way through the pipeline. Records are
// reused, so that their lines' buffers are.
type preparedRecord struct {
	position uint64
	data     []byte
	prev     domain.Hash // the hash stored before the first line
	prevOK   bool        // false when the record before has no readable hash: it fails first
	lines    []domain.Line
	n        int         // lines prepared
	last     domain.Hash // the hash of the last line prepared
	err      error       // the failure after n lines, if any
	ready    chan struct{}
}

// errStopped stops a replay whose records are no longer wanted.
var errStopped = errors.New("replay stopped")

// replayOnto applies the journal's records from position from on to st,
// whose last event has hash prev, and returns the last event's hash and
// the last position read. When anchor is set, the record at from is given
// to it instead of being applied: it is the record a snapshot ends with.
// With an archive in arch, posted ids are archived as the state grows.
func replayOnto(ctx context.Context, j Journal, from uint64, st *domain.State, prev domain.Hash, anchor func(domain.Record) error, arch archiving) (domain.Hash, uint64, error) {
	ordered := make(chan *preparedRecord, rebuildQueueRecords) // to the applier, in journal order
	work := make(chan *preparedRecord, rebuildQueueRecords)    // to the preparers, any order
	free := make(chan *preparedRecord, 2*rebuildQueueRecords+2)
	failed := make(chan struct{})
	var workers sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		workers.Go(func() {
			for p := range work {
				p.prepare()
				close(p.ready)
			}
		})
	}
	applied := make(chan error, 1)
	last := prev
	go func() {
		err := applyRecords(st, ordered, free, &last, arch)
		if err != nil {
			close(failed)
			for range ordered { // let the reader finish its send and stop
			}
		}
		applied <- err
	}()

	prevOK := true
	pos, err := j.ReplayFrom(ctx, from, func(r domain.Record) error {
		if anchor != nil {
			a := anchor
			anchor = nil
			if r.Position != from {
				return fmt.Errorf("snapshot position %d: the journal has record %d there", from, r.Position)
			}
			return a(r)
		}
		var p *preparedRecord
		select {
		case p = <-free:
		default:
			p = new(preparedRecord)
		}
		p.position, p.data, p.prev, p.prevOK = r.Position, r.Data, prev, prevOK
		p.ready = make(chan struct{})
		prev, prevOK = storedHash(r.Data)
		for _, ch := range [2]chan *preparedRecord{ordered, work} {
			select {
			case ch <- p:
			case <-failed:
				return errStopped
			}
		}
		return nil
	})
	close(work)
	close(ordered)
	aerr := <-applied
	workers.Wait()
	if aerr != nil {
		return domain.Hash{}, 0, aerr
	}
	if err != nil {
		return domain.Hash{}, 0, err
	}
	if anchor != nil {
		return domain.Hash{}, 0, fmt.Errorf("snapshot position %d is beyond the journal's end at %d: %w", from, pos, errSnapshotAhead)
	}
	return last, pos, nil
}

// storedHash reads the hash stored at the end of a record's last line,
// the hash the next record chains from; ok is false if there is none.
func storedHash(data []byte) (h domain.Hash, ok bool) {
	const suffix = len(`","hash":"`) - 1 + 2*domain.HashSize + len("\"}\n")
	if len(data) < suffix || string(data[len(data)-suffix:len(data)-suffix+9]) != `,"hash":"` {
		return h, false
	}
	h, err := domain.ParseHash(string(data[len(data)-3-2*domain.HashSize : len(data)-3]))
	return h, err == nil
}

// prepare splits the record and prepares its lines, stopping at the first
// that fails.
func (p *preparedRecord) prepare() {
	p.n, p.err = 0, nil
	raws, err := domain.SplitRecord(p.data)
	if err != nil {
		p.err = fmt.Errorf("record %d: %w: %w", p.position, ErrCorruptJournal, err)
		return
	}
	if !p.prevOK {
		p.err = fmt.Errorf("record %d: the record before has no hash: %w: %w", p.position, ErrCorruptJournal, domain.ErrMalformedEvent)
		return
	}
	if cap(p.lines) < len(raws) {
		p.lines = make([]domain.Line, len(raws))
	}
	p.lines = p.lines[:len(raws)]
	prev := p.prev
	for i, raw := range raws {
		h, err := p.lines[i].Prepare(raw, prev)
		if err != nil {
			p.err = err // placed by the applier, which knows the sequence
			break
		}
		prev = h
		p.n++
	}
	p.last = prev
}

// applyRecords applies the prepared lines in journal order and stops at
// the first failure, its own or the preparer's.
func applyRecords(st *domain.State, ordered <-chan *preparedRecord, free chan<- *preparedRecord, last *domain.Hash, arch archiving) error {
	r := domain.NewReplayer(st)
	for p := range ordered {
		<-p.ready
		for i := range p.lines[:p.n] {
			if err := r.Apply(&p.lines[i]); err != nil {
				if errors.Is(err, domain.ErrMalformedEvent) {
					return fmt.Errorf("record %d after sequence %d: %w: %w", p.position, st.Seq(), ErrCorruptJournal, err)
				}
				return fmt.Errorf("record %d: %w: %w", p.position, ErrCorruptJournal, err)
			}
		}
		*last = p.last
		if p.err != nil {
			if errors.Is(p.err, ErrCorruptJournal) {
				return p.err
			}
			return fmt.Errorf("record %d after sequence %d: %w: %w", p.position, st.Seq(), ErrCorruptJournal, p.err)
		}
		if _, err := evict(st, arch.archive, replayCapacity(arch.hot), p.position, p.last); err != nil {
			return err
		}
		p.data = nil
		select {
		case free <- p:
		default:
		}
	}
	return nil
}
