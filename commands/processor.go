package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/nats-ledger/ledger/domain"
)

// Config tunes the processor. Zero values take the defaults.
type Config struct {
	// MaxBatchMessages bounds the command messages decided per journal
	// append (default 256).
	MaxBatchMessages int
	// MaxRecordEvents bounds the events in one journal record (default 1,000).
	MaxRecordEvents int
	// MaxRecordBytes bounds one journal record's size (default 1 MiB, well
	// under the server's maximum message size).
	MaxRecordBytes int
	// MaxAtomicRecordBytes bounds the record of one atomic batch, which is
	// not split at MaxRecordBytes (default domain.MaxAtomicRecordBytes,
	// which domain.DecideAtomic keeps every atomic batch under).
	MaxAtomicRecordBytes int
	// Now is the clock that stamps events (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger

	// Snapshots keeps the processor's snapshots; nil disables them, and
	// every start-up replays the whole journal.
	Snapshots SnapshotStore
	// SnapshotEvery is the number of events after which a snapshot is
	// taken (default 500,000: the most a start-up replays after the
	// newest snapshot, about a second; docs/BENCHMARKS.md, "Restart with
	// 10M events").
	SnapshotEvery uint64
	// SnapshotInterval is the longest time between snapshots while events
	// arrive (default 5 minutes). Nothing is taken while nothing changes.
	SnapshotInterval time.Duration
	// SnapshotsKept is how many snapshots are kept (default 3): the older
	// ones are what a start-up falls back to if the newest is damaged.
	SnapshotsKept int
	// MaxSnapshotBytes bounds the size of a snapshot read at start-up
	// (default 64 GiB).
	MaxSnapshotBytes int64

	// SkipLostThrough is the operator's word that accepted commands up to
	// this sequence which are no longer in the commands stream (deleted
	// before they were decided) are lost: they are journaled as
	// CommandSkipped (lost) instead of stopping the processor. Zero: a
	// lost command always stops it (ErrCommandsLost).
	SkipLostThrough uint64
	// Observer is told each batch, transfer and snapshot, for metrics;
	// nil: nobody.
	Observer Observer

	// Tracer, when set, traces each batch decided (decide.go) and stamps
	// its records with the span's traceparent; nil: tracing off.
	Tracer trace.Tracer

	// Elector, when set, makes this processor one of several instances of
	// which only the lease holder decides (election.go, ADR 0026); nil:
	// it is the only one and always active.
	Elector Elector
	// Archive keeps the posted ids evicted from memory (archive.go); nil:
	// every posted id stays in memory, as HotIDs is then ignored.
	Archive IDArchive
	// HotIDs is the most posted ids kept in memory with an Archive
	// (default 1,000,000; see defaultHotIDs).
	HotIDs int
}

const (
	defaultMaxBatchMessages = 256
	defaultMaxRecordEvents  = 1_000
	defaultMaxRecordBytes   = 1 << 20
	defaultMaxAtomicBytes   = domain.MaxAtomicRecordBytes
	// appendTimeout bounds one journal append. It outlives a shutdown
	// signal so that a batch in flight is finished, not abandoned.
	appendTimeout = 30 * time.Second
	// restartBackoffMax caps the wait between rebuilds after a failure.
	restartBackoffMax = 5 * time.Second

	defaultSnapshotEvery    = 500_000
	defaultSnapshotInterval = 5 * time.Minute
	defaultSnapshotsKept    = 3
	defaultMaxSnapshotBytes = 64 << 30
	// snapshotSaveTimeout bounds writing one snapshot to the store.
	snapshotSaveTimeout = 30 * time.Minute
	// snapshotPoll is how often an idle processor looks whether the
	// snapshot being written has finished, when another is due.
	snapshotPoll = 250 * time.Millisecond
)

func (c *Config) setDefaults() {
	if c.MaxBatchMessages <= 0 {
		c.MaxBatchMessages = defaultMaxBatchMessages
	}
	if c.MaxRecordEvents <= 0 {
		c.MaxRecordEvents = defaultMaxRecordEvents
	}
	if c.MaxRecordBytes <= 0 {
		c.MaxRecordBytes = defaultMaxRecordBytes
	}
	if c.MaxAtomicRecordBytes <= 0 {
		c.MaxAtomicRecordBytes = defaultMaxAtomicBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = defaultSnapshotEvery
	}
	if c.SnapshotInterval <= 0 {
		c.SnapshotInterval = defaultSnapshotInterval
	}
	if c.SnapshotsKept <= 0 {
		c.SnapshotsKept = defaultSnapshotsKept
	}
	if c.MaxSnapshotBytes <= 0 {
		c.MaxSnapshotBytes = defaultMaxSnapshotBytes
	}
	if c.HotIDs <= 0 {
		c.HotIDs = defaultHotIDs
	}
}

// ErrCorruptJournal means the journal failed verification while the state
// was rebuilt from it. The processor stops rather than write after it.
var ErrCorruptJournal = errors.New("journal failed verification")

// Processor is a ledger's single writer.
type Processor struct {
	cfg      Config
	journal  Journal
	source   CommandSource
	notifier Notifier

	// Owned by the Run goroutine.
	state    *domain.State
	lastHash domain.Hash
	position uint64    // journal position of the last record
	lastSeen uint64    // the last command message decided since the rebuild
	snapSeq  uint64    // sequence of the last snapshot taken or restored
	snapAt   time.Time // when it was taken, or the processor started
	pre      prefetchBuffers
	evicting *eviction // the eviction whose archive write is in flight

	// The snapshot being written, if any, on its own goroutine.
	snapBusy  atomic.Bool
	snapSaved atomic.Uint64 // sequence of the last snapshot stored or restored
	snapWG    sync.WaitGroup
	snapCtx   context.Context

	roleState
	ready   atomic.Bool
	seq     atomic.Uint64 // last ledger sequence appended, for readiness checks
	hotIDs  atomic.Int64  // posted ids held in memory at the last append or rebuild, for metrics
	head    atomic.Pointer[Head]
	decided atomic.Uint64 // the last command message decided and journaled
}

// New returns a processor; Run starts it.
func New(j Journal, src CommandSource, n Notifier, cfg Config) *Processor {
	cfg.setDefaults()
	return &Processor{cfg: cfg, journal: j, source: src, notifier: n}
}

// Ready reports whether the processor has rebuilt its state and is
// consuming commands.
func (p *Processor) Ready() bool { return p.ready.Load() }

// Run rebuilds the state from the journal and decides commands until ctx
// ends, then returns nil after finishing the batch in flight. When an
// append fails or is fenced, the state may be ahead of the journal, so it
// is thrown away and rebuilt. A journal that fails verification is fatal:
// Run returns an error wrapping ErrCorruptJournal. So is a commands stream
// that does not fit the journal (ErrCommandsLost, ErrCommandsRenumbered).
func (p *Processor) Run(ctx context.Context) error {
	// A snapshot in progress when Run returns is abandoned, not left to
	// outlive the connection it writes on; the next one replaces it.
	var stopSnapshots context.CancelFunc
	p.snapCtx, stopSnapshots = context.WithCancel(context.WithoutCancel(ctx))
	defer p.snapWG.Wait()
	defer p.dropEviction()
	defer stopSnapshots()
	defer p.set(RoleStopped)
	elector := p.cfg.Elector
	if elector == nil {
		elector = alwaysElected{}
	}
	backoff := 100 * time.Millisecond
	for {
		p.set(RoleStandby)
		held, release, err := elector.Campaign(ctx)
		lost := false
		if err == nil {
			err = p.term(held)
			lost = held.Err() != nil
			release()
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrCorruptJournal) || errors.Is(err, ErrCommandsLost) || errors.Is(err, ErrCommandsRenumbered) {
			return err
		}
		if lost {
			// Stepped down: another instance holds the lease, or this
			// one could not renew it in time. The state is not kept: it
			// is rebuilt from the journal if the lease comes back.
			p.cfg.Logger.Warn("processor stepped down: lease lost", "err", err)
			continue
		}
		p.cfg.Logger.Error("processor restarting from the journal", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, restartBackoffMax)
	}
}

// term rebuilds the state and decides commands while held lasts: one
// lease, or the whole run without an Elector. It returns why it stopped.
// With an Elector, a lost lease stops command delivery at once, even
// while the processor's goroutine is busy (a batch in flight is then
// either appended, if no one else wrote since, or fenced): a standby that
// takes over must not have commands held by this one.
func (p *Processor) term(held context.Context) error {
	p.terms.Add(1)
	p.set(RoleStarting)
	if p.cfg.Elector != nil {
		stop := context.AfterFunc(held, p.source.Stop)
		defer stop()
		defer p.source.Stop()
	}
	err := p.rebuild(held)
	if err != nil {
		return err
	}
	p.ready.Store(true)
	p.set(RoleActive)
	err = p.loop(held)
	p.ready.Store(false)
	if errors.Is(err, ErrFenced) && p.cfg.Elector != nil {
		p.cfg.Logger.Warn("processor fenced: another writer appended; stepping down", "err", err)
	}
	return err
}

// rebuild replaces the state with one restored from the newest good
// snapshot and the journal after it, or from the whole journal.
func (p *Processor) rebuild(ctx context.Context) error {
	p.dropEviction()
	start := time.Now()
	arch, err := p.archiving(ctx)
	if err != nil {
		return err
	}
	r, err := restore(ctx, p.journal, p.cfg.Snapshots, p.cfg.MaxSnapshotBytes, p.cfg.Logger, arch)
	if err != nil {
		return err
	}
	cs, err := p.source.Rewind(ctx)
	if err != nil {
		return fmt.Errorf("rewind commands: %w", err)
	}
	from, err := commandsStart(cs, r.State.LastCommand().Seq)
	lost := p.skippable(err)
	if lost != nil {
		from, err = lost.To, nil
	}
	if err != nil {
		return err
	}
	p.state, p.lastHash, p.position, p.lastSeen = r.State, r.LastHash, r.Position, from
	p.setHead(r.State.Seq(), r.LastHash)
	if lost != nil {
		if err := p.journalLost(lost); err != nil {
			return err
		}
	}
	p.decided.Store(max(p.decided.Load(), from))
	// The next snapshot is due counting from the newest one there is.
	if p.snapSeq > r.State.Seq() {
		p.snapSeq = 0
	}
	p.snapSeq = max(p.snapSeq, r.Snapshot)
	p.snapSaved.Store(p.snapSeq)
	if p.snapAt.IsZero() {
		p.snapAt = start
	}
	p.cfg.Logger.Info("processor state rebuilt", "events", r.State.Seq(), "position", r.Position, "elapsed", time.Since(start))
	return nil
}

// Rebuild reads and verifies the whole journal into a fresh state. It
// returns the state, the last event's hash and the last record's position.
// It verifies every event's place in the hash chain and sequence, on two
// cores (see rebuild.go).
func Rebuild(ctx context.Context, j Journal) (*domain.State, domain.Hash, uint64, error) {
	return rebuildWith(ctx, j, archiving{})
}

// rebuildWith is Rebuild, archiving posted ids as it goes when arch has an
// archive, so that memory stays bounded during the replay too.
func rebuildWith(ctx context.Context, j Journal, arch archiving) (*domain.State, domain.Hash, uint64, error) {
	st := domain.NewState()
	last, pos, err := replayOnto(ctx, j, 1, st, domain.Hash{}, nil, arch)
	if err != nil {
		return nil, domain.Hash{}, 0, err
	}
	return st, last, pos, nil
}

func (p *Processor) loop(ctx context.Context) error {
	var stall uint64 // the command found stored and undelivered at the last idle check
	for {
		if err := p.maybeEvict(); err != nil {
			return err
		}
		p.maybeSnapshot()
		wait, cancel := p.nextWait(ctx)
		wait, cancelIdle := context.WithTimeout(wait, stallCheck)
		wait, cancelExpiry := p.expiryWait(wait)
		msgs, err := p.source.Next(wait, p.cfg.MaxBatchMessages)
		cancelExpiry()
		cancelIdle()
		cancel()
		if err != nil {
			if ctx.Err() == nil && wait.Err() != nil {
				// A snapshot is due, a hold may have expired, or nothing
				// came for a while.
				if err := p.expireIdle(); err != nil {
					return err
				}
				if err := p.checkStalled(ctx, &stall); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("next commands: %w", err)
		}
		stall = 0
		err = p.process(msgs)
		if errors.Is(err, errCommandGap) {
			// The state is the journal's: only delivery starts again.
			p.cfg.Logger.Warn("command delivery starts again after a gap", "err", err)
			err = p.resync(ctx)
		}
		if err != nil {
			return err
		}
	}
}
