package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// A rebuild is a two-stage pipeline, one stage per core. The goroutine
// that reads the journal splits each record into lines and prepares them
// (domain.Line.Prepare: the SHA-256 chain check and the parsing); a second
// goroutine applies the prepared lines in order (domain.Replayer). The two
// check exactly what ReadEvents checks, line by line, and the first line
// that fails is the one reported. The state is only touched by the second
// goroutine, and handed back once it has finished.

// rebuildQueueRecords bounds the prepared records waiting to be applied.
const rebuildQueueRecords = 8

// preparedRecord is a record whose lines were prepared. Records cycle
// between the stages, so that their lines' buffers are reused.
type preparedRecord struct {
	position uint64
	lines    []domain.Line
	n        int         // lines prepared
	last     domain.Hash // the hash of the last line prepared
	err      error       // the failure after n lines, if any
}

// errStopped stops a replay whose records are no longer wanted.
var errStopped = errors.New("replay stopped")

// replayOnto applies the journal's records from position from on to st,
// whose last event has hash prev, and returns the last event's hash and
// the last position read. When anchor is set, the record at from is given
// to it instead of being applied: it is the record a snapshot ends with.
func replayOnto(ctx context.Context, j Journal, from uint64, st *domain.State, prev domain.Hash, anchor func(Record) error) (domain.Hash, uint64, error) {
	queue := make(chan *preparedRecord, rebuildQueueRecords)
	free := make(chan *preparedRecord, rebuildQueueRecords+2)
	applied := make(chan error, 1)
	failed := make(chan struct{})
	last := prev
	go func() {
		err := applyRecords(st, queue, free, &last)
		if err != nil {
			close(failed)
			for range queue { // let the reader finish its send and stop
			}
		}
		applied <- err
	}()

	pos, err := j.ReplayFrom(ctx, from, func(r Record) error {
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
		p.position, p.n, p.err = r.Position, 0, nil
		raws, err := domain.SplitRecord(r.Data)
		if err != nil {
			p.err = fmt.Errorf("record %d: %w: %w", r.Position, ErrCorruptJournal, err)
		}
		if cap(p.lines) < len(raws) {
			p.lines = make([]domain.Line, len(raws))
		}
		p.lines = p.lines[:len(raws)]
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
		select {
		case queue <- p:
		case <-failed:
			return errStopped
		}
		if p.err != nil {
			return errStopped
		}
		return nil
	})
	close(queue)
	if aerr := <-applied; aerr != nil {
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

// applyRecords is the second stage: it applies the prepared lines in order
// and stops at the first failure, its own or the preparer's.
func applyRecords(st *domain.State, queue <-chan *preparedRecord, free chan<- *preparedRecord, last *domain.Hash) error {
	r := domain.NewReplayer(st)
	for p := range queue {
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
		select {
		case free <- p:
		default:
		}
	}
	return nil
}
