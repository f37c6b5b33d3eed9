package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// Bounds of one read-model transaction during a replay, as the projector
// has them: records and events applied together.
const (
	replayBatchRecords = 512
	replayBatchEvents  = 20_000
)

// ReplayOptions say what to build and from where.
type ReplayOptions struct {
	// Out is the read-model directory to build. It is never the live one
	// a server reads; Install puts it in place.
	Out string
	// From is the first sequence to apply: 1 (or 0) rebuilds from
	// scratch, removing any read model at Out first; a later one continues the
	// read model at Out, whose checkpoint must be From-1. Continue
	// continues it from its checkpoint, whatever that is.
	From     uint64
	Continue bool
	// RunBytes bounds the memory of a bulk build's sorted runs (the
	// projections package's default, 64 MiB, when 0; ADR 0028).
	RunBytes int
	// Progress, Workers: as in Options.
	Progress func(lines int)
	Workers  int
}

// ReplayStats says what a replay did.
type ReplayStats struct {
	Out     string        `json:"out"`
	From    uint64        `json:"from_seq"` // the first sequence applied
	Events  uint64        `json:"events"`   // events read and verified
	Applied uint64        `json:"applied"`  // events applied to the read model
	LastSeq uint64        `json:"last_seq"` // the read model's checkpoint at the end
	Elapsed time.Duration `json:"elapsed_ns"`
}

// EventsPerSec is the replay's throughput over the events read.
func (s ReplayStats) EventsPerSec() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Events) / s.Elapsed.Seconds()
}

// Replay builds the read model at opts.Out from the journal stream. It
// reads and verifies the whole journal as Run does (a replay never builds
// on a journal that fails a check, and the checks need the history from
// sequence 1), and applies the events after the store's checkpoint in
// batches of many records, each with its checkpoint, so an interrupted
// replay continues where it stopped (Continue).
func Replay(ctx context.Context, src *JetStreamSource, opts ReplayOptions) (ReplayStats, error) {
	st := ReplayStats{Out: opts.Out}
	start := time.Now()
	if opts.Out == "" {
		return st, errors.New("replay: no output directory")
	}
	open := projections.OpenForRebuild
	bulk := func(path string) (*projections.Store, error) {
		return projections.OpenForBulkBuild(path, opts.RunBytes)
	}
	if opts.From <= 1 && !opts.Continue {
		if err := removeReadModel(ctx, opts.Out); err != nil {
			return st, err
		}
		// From scratch: the bulk build (ADR 0028), refused by every Open
		// until FinishBuild below.
		open = bulk
	}
	store, err := open(opts.Out)
	if err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	defer store.Close()
	cp, err := store.Checkpoint(ctx)
	if err != nil {
		return st, err
	}
	if opts.From > 1 && !opts.Continue && cp.Seq != opts.From-1 {
		return st, fmt.Errorf("replay from %d: %s stands at sequence %d, not %d (use --continue to go on from there)",
			opts.From, opts.Out, cp.Seq, opts.From-1)
	}
	st.From = cp.Seq + 1
	sink := startSink(ctx, store, cp)
	res, err := Run(ctx, src, Options{OnChunk: sink.chunk, Progress: opts.Progress, Workers: opts.Workers})
	if ferr := sink.finish(err == nil); err == nil {
		err = ferr
	}
	if err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	if !res.Report.OK {
		// Only checks that run at the end can fail here (OnChunk stops at
		// the others).
		return st, fmt.Errorf("replay: %w: %s", ErrFailed, res.Report.Findings[0])
	}
	if err := store.FinishBuild(ctx); err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	if cp, err = store.Checkpoint(ctx); err != nil {
		return st, err
	}
	st.Events, st.Applied, st.LastSeq = res.Report.Events, sink.applied, cp.Seq
	st.Elapsed = time.Since(start)
	return st, store.Close()
}

// replaySink gathers checked records and applies them in batches on a
// goroutine of its own, so that the store applies one batch while the
// audit checks the next: the replay runs at the pace of the slower of the
// two, not of their sum. At most one batch waits while one is applied
// (the channel's capacity), so the events held stay bounded by three
// batches of replayBatchEvents.
type replaySink struct {
	ctx     context.Context
	store   *projections.Store
	after   projections.Checkpoint // what the store had before the replay
	pending []projections.Record
	events  int
	work    chan []projections.Record
	done    chan struct{}
	mu      sync.Mutex
	err     error  // the first apply error; guarded by mu
	applied uint64 // events applied; read after done
}

func startSink(ctx context.Context, store *projections.Store, after projections.Checkpoint) *replaySink {
	s := &replaySink{ctx: ctx, store: store, after: after, work: make(chan []projections.Record, 1), done: make(chan struct{})}
	go s.apply()
	return s
}

// apply applies the batches in order until the channel closes; after an
// error it only drains.
func (s *replaySink) apply() {
	defer close(s.done)
	for recs := range s.work {
		if s.failed() != nil {
			continue
		}
		if err := s.store.ApplyRecords(s.ctx, recs); err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			continue
		}
		for _, r := range recs {
			for _, ev := range r.Events {
				if ev.Seq > s.after.Seq {
					s.applied++
				}
			}
		}
	}
}

func (s *replaySink) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *replaySink) chunk(c Chunk, events []*domain.Event) error {
	if err := s.failed(); err != nil {
		return err // stop the audit: the store refused a batch
	}
	if len(events) == 0 || events[len(events)-1].Seq <= s.after.Seq {
		return nil // applied before this replay
	}
	if c.Position == 0 {
		return errors.New("replay needs journal positions: read the journal stream, not an export")
	}
	s.pending = append(s.pending, projections.Record{Position: c.Position, Events: events})
	s.events += len(events)
	if len(s.pending) >= replayBatchRecords || s.events >= replayBatchEvents {
		s.flush()
	}
	return nil
}

// flush hands the pending records to the applying goroutine.
func (s *replaySink) flush() {
	if len(s.pending) == 0 {
		return
	}
	s.work <- s.pending
	s.pending, s.events = nil, 0
}

// finish applies what is pending when the audit went well (apply), waits
// for the applying goroutine and returns its first error.
func (s *replaySink) finish(apply bool) error {
	if apply {
		s.flush()
	}
	close(s.work)
	<-s.done
	return s.failed()
}

// removeReadModel removes the read model at path, if there is one. Anything
// else there is left alone and is an error: --out names the wrong path.
func removeReadModel(ctx context.Context, path string) error {
	if err := os.RemoveAll(path + ".bulk"); err != nil { // an interrupted bulk build's files
		return fmt.Errorf("remove %s.bulk: %w", path, err)
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	snap, err := projections.OpenSnapshot(ctx, path)
	if errors.Is(err, projections.ErrIncompleteBuild) {
		return removeDir(path)
	}
	if err != nil {
		return fmt.Errorf("replay: %s exists and is not a read model: %w", path, err)
	}
	if err := snap.Close(); err != nil {
		return err
	}
	return removeDir(path)
}

func removeDir(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// Install puts the read model built at built in place of live, for a
// server that is stopped: the caller must hold the data directory's lock
// (Journal.Locked), and neither store may be open (each is checked: a
// store some process has open is refused). live is first renamed aside
// to live + ".old", then built to live, then the old one is removed. A
// crash leaves the old read model, the new one, or none at live (when it
// stops between the renames): the node then rebuilds one from the
// journal, and each is consistent with its own checkpoint.
func Install(ctx context.Context, built, live string) error {
	if _, err := os.Stat(built); err != nil {
		return fmt.Errorf("install read model: %w", err)
	}
	for _, p := range []string{built, live} {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			continue
		}
		snap, err := projections.OpenSnapshot(ctx, p)
		if err != nil {
			return fmt.Errorf("install read model: %w (stop the server; or move %s away by hand)", err, p)
		}
		if err := snap.Close(); err != nil {
			return fmt.Errorf("install read model: %w", err)
		}
	}
	old := live + ".old"
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("install read model: %w", err)
	}
	if err := os.Rename(live, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("install read model: %w", err)
	}
	if err := os.Rename(built, live); err != nil {
		return fmt.Errorf("install read model: %w", err)
	}
	if err := syncDir(filepath.Dir(live)); err != nil {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("install read model: remove the old one: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
