package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// The archive of posted ids (ADR 0027): the processor keeps at most
// Config.HotIDs posted ids in memory and the rest in an IDArchive on disk.
// Between batches it evicts the oldest quarter of the hot set to the
// archive when the hot set is over capacity (durable first, then forgotten
// in memory); before deciding a command message it looks up in the archive
// the ids the message needs that are not in memory (domain.State.Unchecked,
// Prefetched), so that Decide stays pure and exact.

// IDArchive keeps posted transfer ids on disk. Its errors are I/O errors:
// the processor stops deciding and rebuilds, as after a failed append.
type IDArchive interface {
	// Lookup looks keys up: ids[i] is set to the archived id of keys[i],
	// or left zero (Seq 0) when there is none. ids is as long as keys.
	Lookup(keys [][16]byte, ids []domain.PostedID) error
	// Archive stores ids and mark together and durably (synced): after it
	// returns, a crash keeps both or, if it returns an error, possibly
	// neither. Ids already there are overwritten with the same values.
	// The mark never moves back: Through becomes the larger of the two,
	// and the anchor (Seq, Position, Hash) stays the stored one when that
	// is later, so that everything archived came from the journal up to
	// the anchor (a rebuild re-archives from the start).
	Archive(ids []domain.PostedID, mark ArchiveMark) error
	// Mark returns the mark last archived; zero for an empty archive.
	Mark() (ArchiveMark, error)
	// Reset deletes every id and the mark, durably.
	Reset() error
}

// ArchiveMark says how far an archive goes and which journal it follows:
// every id posted at or before Through is in it, and it was written from
// a journal whose record at Position ends with event Seq, of hash Hash.
// The processor's start-up checks that anchor against the journal (a journal restored from
// an older backup, or another ledger's, does not match) before it trusts
// the archive.
type ArchiveMark struct {
	Through  uint64
	Seq      uint64
	Position uint64
	Hash     domain.Hash
}

// defaultHotIDs is the default capacity of the hot set: a million ids is
// about 60 MB, a small part of the 1 GB the processor may take at 100M
// ids, and holds the ids of the last minutes even at 10k transfers a
// second, where nearly every retry falls. An eviction moves the older of
// two generations, half the capacity, once per 500k postings, without a
// pause (the write walks the generation on a goroutine of its own); what
// the capacity costs is memory: up to the capacity, plus the ids posted
// while a write runs.
const defaultHotIDs = 1_000_000

// evict moves the oldest hot ids to the archive when the hot set is over
// its capacity, synchronously: for a replay, after each record. The state
// must be exactly the journal up to position, whose last event has hash
// last.
func evict(st *domain.State, a IDArchive, capacity int, position uint64, last domain.Hash) (int, error) {
	if a == nil {
		return 0, nil
	}
	plan, ok := st.PlanEviction(capacity)
	if !ok {
		return 0, nil
	}
	mark := ArchiveMark{Through: plan.Cut, Seq: st.Seq(), Position: position, Hash: last}
	ids := plan.IDs()
	if err := a.Archive(ids, mark); err != nil {
		return 0, fmt.Errorf("archive %d posted ids: %w", len(ids), err)
	}
	st.Evict(plan)
	return len(ids), nil
}

// eviction is an eviction planned between batches whose archive write
// runs on its own goroutine while the processor decides on: the
// generation it will drop stays in memory until the write is durable,
// and the batches decided meanwhile post ids after its cut, in the young
// generation. The goroutine walks the generation (Eviction.IDs): nothing
// writes it any more.
type eviction struct {
	plan  domain.Eviction
	pause time.Duration // planning it, on the processor's goroutine
	start time.Time
	done  chan error // the write's result
}

// maybeEvict runs between batches. It completes the eviction in flight
// once its write is durable (the state forgets its ids), or else, when
// the hot set is over its capacity, plans one and starts its write. A
// failed write is returned: Run rebuilds.
func (p *Processor) maybeEvict() error {
	if e := p.evicting; e != nil {
		select {
		case err := <-e.done:
			p.evicting = nil
			if err != nil {
				return fmt.Errorf("archive up to %d posted ids: %w", e.plan.Len(), err)
			}
			start := time.Now()
			p.state.Evict(e.plan)
			p.cfg.Logger.Debug("posted ids archived", "ids", e.plan.Len(), "through", p.state.ArchivedThrough(),
				"hot", p.state.HotIDs(), "write", start.Sub(e.start), "pause", e.pause+time.Since(start))
		default:
		}
		return nil
	}
	if p.cfg.Archive == nil {
		return nil
	}
	start := time.Now()
	plan, ok := p.state.PlanEviction(p.cfg.HotIDs)
	if !ok {
		return nil
	}
	mark := ArchiveMark{Through: plan.Cut, Seq: p.state.Seq(), Position: p.position, Hash: p.lastHash}
	e := &eviction{plan: plan, pause: time.Since(start), start: time.Now(), done: make(chan error, 1)}
	archive := p.cfg.Archive
	go func() { e.done <- archive.Archive(plan.IDs(), mark) }()
	p.evicting = e
	return nil
}

// dropEviction waits for the eviction in flight, if any, and forgets it:
// before a rebuild, which replaces the state it was planned for, and
// before Run returns, so that nothing writes to the archive after.
func (p *Processor) dropEviction() {
	if p.evicting != nil {
		<-p.evicting.done
		p.evicting = nil
	}
}

// prefetch looks up in the archive the ids that deciding items needs and
// the state does not hold, and gives the state the answers.
func (p *Processor) prefetch(items []Item) error {
	p.pre.keys = p.state.Unchecked(items, p.pre.keys[:0])
	if len(p.pre.keys) == 0 {
		return nil
	}
	if p.cfg.Archive == nil {
		return errors.New("posted ids are archived and no archive is configured")
	}
	ids := slices.Grow(p.pre.ids[:0], len(p.pre.keys))[:len(p.pre.keys)]
	if err := p.cfg.Archive.Lookup(p.pre.keys, ids); err != nil {
		return fmt.Errorf("look up %d posted ids: %w", len(p.pre.keys), err)
	}
	found, absent := p.pre.found[:0], p.pre.absent[:0]
	for i, id := range ids {
		if id.Seq != 0 {
			found = append(found, id)
		} else {
			absent = append(absent, p.pre.keys[i])
		}
	}
	p.state.Prefetched(found, absent)
	p.pre.ids, p.pre.found, p.pre.absent = ids, found, absent
	return nil
}

// checkArchive returns the archive's mark after checking it against the
// journal: an archive whose anchor the journal does not have (the journal
// ends before it, or has another event there) is reset, and its mark is
// zero. With no archive the mark is zero.
func checkArchive(ctx context.Context, j Journal, a IDArchive, log logger) (ArchiveMark, error) {
	if a == nil {
		return ArchiveMark{}, nil
	}
	mark, err := a.Mark()
	if err != nil {
		return ArchiveMark{}, fmt.Errorf("posted-id archive: %w", err)
	}
	if mark == (ArchiveMark{}) {
		return mark, nil
	}
	// One record is read: the replay stops at the first.
	var verdict error = fmt.Errorf("the journal ends before position %d", mark.Position)
	_, err = j.ReplayFrom(ctx, mark.Position, func(r domain.Record) error {
		verdict = nil
		if r.Position != mark.Position {
			verdict = fmt.Errorf("the journal has no record %d", mark.Position)
		} else if err := recordEndsWith(r, mark.Seq, mark.Hash); err != nil {
			verdict = err
		}
		return errStopped
	})
	if err != nil && !errors.Is(err, errStopped) {
		return ArchiveMark{}, fmt.Errorf("read the journal at the posted-id archive's mark: %w", err)
	}
	if verdict == nil {
		return mark, nil
	}
	log.Warn("posted-id archive does not match the journal; rebuilding it", "through", mark.Through,
		"seq", mark.Seq, "position", mark.Position, "reason", verdict)
	if err := a.Reset(); err != nil {
		return ArchiveMark{}, fmt.Errorf("reset the posted-id archive: %w", err)
	}
	return ArchiveMark{}, nil
}

// logger is what checkArchive logs with (a *slog.Logger).
type logger interface {
	Warn(msg string, args ...any)
}

// archiving is what a start-up needs of the archive: the archive (nil for
// none), the hot set's capacity, and how far the archive goes, checked
// against the journal.
type archiving struct {
	archive IDArchive
	hot     int
	through uint64
}

// archiving checks the processor's archive against the journal (see
// checkArchive) for a start-up.
func (p *Processor) archiving(ctx context.Context) (archiving, error) {
	mark, err := checkArchive(ctx, p.journal, p.cfg.Archive, p.cfg.Logger)
	if err != nil {
		return archiving{}, err
	}
	return archiving{archive: p.cfg.Archive, hot: p.cfg.HotIDs, through: mark.Through}, nil
}

// prefetchBuffers are prefetch's buffers, kept between messages. They
// grow to the items of the largest command message (MaxItemsPerCommand).
type prefetchBuffers struct {
	keys   [][16]byte
	ids    []domain.PostedID
	found  []domain.PostedID
	absent [][16]byte
}
