package projections

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// knownAccountsMax bounds the accounts remembered as existing (about
// 5 MB): past it the set starts again, costing one lookup per account.
const knownAccountsMax = 100_000

// ErrSchemaVersion means the directory holds a read model of another
// schema version. It is never migrated in place: move it aside (or delete
// it) and the read model is rebuilt from the journal.
var ErrSchemaVersion = errors.New("read model of another schema version")

// Store is the read model: one Pebble store in a directory. One writer
// applies records (ApplyRecords is serialised), each call one atomic
// Pebble batch with its checkpoint; queries read consistent snapshots
// concurrently. Safe for concurrent use.
type Store struct {
	db   *pebble.DB
	bulk bool // opened for a rebuild: no WAL, flushed at Close
	// build is a bulk build's state (bulk.go), nil otherwise. Guarded by
	// writeMu.
	build *bulkBuild

	writeMu sync.Mutex // serialises ApplyRecords
	// known holds accounts that committed entries named, so that the
	// applier need not look them up again (accounts are never deleted).
	// Guarded by writeMu; cleared when it reaches knownAccountsMax.
	known map[accountKey]struct{}

	// life is held shared by every query and exclusively by Close, so
	// that no query reads a closed database.
	life sync.RWMutex

	mu       sync.Mutex    // guards the fields below
	seq      uint64        // the checkpoint's Seq, as last committed
	position uint64        // the checkpoint's Position, as last committed
	changed  chan struct{} // closed and replaced whenever seq advances
	closed   bool
}

// Checkpoint is how far the read model has applied the journal.
type Checkpoint struct {
	Seq      uint64 // the last ledger sequence applied
	Position uint64 // the last journal stream position applied
}

// Open opens the read model in the directory path, creating it and its
// schema if missing. Every batch goes through Pebble's write-ahead log
// without an fsync (see docs/durability.md): a crash of the process loses
// nothing the kernel was given, a power loss may lose the last batches,
// and since each batch carries its checkpoint, what is lost is applied
// again from the journal, never twice.
func Open(path string) (*Store, error) { return open(path, false) }

// OpenForRebuild opens the read model at path for a rebuild from the
// journal (ledger replay): batches skip the write-ahead log, which a
// rebuild does not need (Pebble flushes whole batches only, so what
// reaches the disk is always a prefix of the batches, checkpoint
// included), and Close flushes the rest. A crash loses at most what was
// not flushed; the checkpoint says where to continue.
func OpenForRebuild(path string) (*Store, error) { return open(path, true) }

func open(path string, bulk bool) (*Store, error) {
	return openWith(path, bulk, pebbleOptions(bulk, false))
}

// openWith opens the store with opts (the crash tests set their file
// system); setup runs before the schema is checked or written.
func openWith(path string, bulk bool, opts *pebble.Options, setup ...func(*Store)) (*Store, error) {
	if path == "" {
		return nil, errors.New("open read model: no path")
	}
	db, err := openPebble(path, opts)
	if err != nil {
		return nil, fmt.Errorf("open read model %s: %w", path, err)
	}
	s := &Store{db: db, bulk: bulk, changed: make(chan struct{}), known: make(map[accountKey]struct{})}
	for _, f := range setup {
		f(s)
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init checks or writes the schema version and loads the checkpoint.
func (s *Store) init() error {
	v, err := getOptional(s.db, keySchema)
	if err != nil {
		return fmt.Errorf("open read model: %w", err)
	}
	if v == nil {
		empty, err := isEmpty(s.db)
		if err != nil {
			return fmt.Errorf("open read model: %w", err)
		}
		if !empty {
			return fmt.Errorf("open read model: no schema version: %w", ErrSchemaVersion)
		}
		b := s.db.NewBatch()
		defer b.Close()
		version := strconv.Itoa(schemaVersion)
		if s.build != nil {
			version = schemaBuilding // FinishBuild writes the version
		}
		_ = b.Set(keySchema, []byte(version), nil)
		_ = b.Set(keyCheckpoint, encodeCheckpoint(Checkpoint{}), nil)
		sync := pebble.Sync
		if s.bulk {
			sync = pebble.NoSync // no WAL to sync: Close flushes
		}
		if err := b.Commit(sync); err != nil {
			return fmt.Errorf("create read model: %w", err)
		}
	} else if err := checkSchema(v); err != nil {
		return err
	}
	cp, err := readCheckpoint(s.db)
	if err != nil {
		return err
	}
	s.seq, s.position = cp.Seq, cp.Position
	return nil
}

func checkSchema(v []byte) error {
	if string(v) == schemaBuilding {
		return fmt.Errorf("open read model: %w (%w): replay it from scratch", ErrIncompleteBuild, ErrSchemaVersion)
	}
	if string(v) != strconv.Itoa(schemaVersion) {
		return fmt.Errorf("open read model: schema version %q, want %d: %w", v, schemaVersion, ErrSchemaVersion)
	}
	return nil
}

func isEmpty(r reader) (bool, error) {
	it, err := r.NewIter(nil)
	if err != nil {
		return false, err
	}
	defer it.Close()
	return !it.First(), it.Error()
}

// Close closes the store. Waiters in WaitSeq return ErrClosed, and so
// does ApplyRecords from then on: stop the Projector first.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.changed)
	s.mu.Unlock()
	s.writeMu.Lock() // let a batch in flight finish
	defer s.writeMu.Unlock()
	s.life.Lock() // and the queries in flight
	defer s.life.Unlock()
	var err error
	if s.bulk {
		err = s.db.Flush() // without a WAL, the memtables are all there is
	}
	if s.build != nil { // an unfinished bulk build: stays refused
		err = errors.Join(err, s.build.close())
	}
	return errors.Join(err, s.db.Close())
}

// HoldWrites blocks ApplyRecords until release is called, as a stuck
// disk would: queries go on answering from what was applied. For tests
// of a lagging read model and for maintenance; release is idempotent.
func (s *Store) HoldWrites() (release func()) {
	s.writeMu.Lock()
	var once sync.Once
	return func() { once.Do(s.writeMu.Unlock) }
}

// reader is what queries need of a *pebble.DB or a *pebble.Snapshot.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// getOptional returns a copy of key's value, or nil when it is absent.
func getOptional(r reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := append([]byte{}, v...)
	return out, closer.Close()
}

func encodeCheckpoint(cp Checkpoint) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, cp.Seq), cp.Position)
}

func readCheckpoint(r reader) (Checkpoint, error) {
	v, err := getOptional(r, keyCheckpoint)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("read checkpoint: %w", err)
	}
	if len(v) != 16 {
		return Checkpoint{}, fmt.Errorf("read checkpoint: %w", errCorruptRow)
	}
	return Checkpoint{Seq: binary.BigEndian.Uint64(v), Position: binary.BigEndian.Uint64(v[8:])}, nil
}

// Checkpoint returns how far the read model has applied the journal, as
// stored.
func (s *Store) Checkpoint(context.Context) (Checkpoint, error) {
	var cp Checkpoint
	err := s.snapshot(func(r reader) (err error) {
		cp, err = readCheckpoint(r)
		return err
	})
	return cp, err
}

// appliedSeq returns the checkpoint's Seq as last committed.
func (s *Store) appliedSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// advance records a committed checkpoint and wakes WaitSeq callers.
func (s *Store) advance(seq, position uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.position = max(s.position, position)
	if seq <= s.seq || s.closed {
		return
	}
	s.seq = seq
	close(s.changed)
	s.changed = make(chan struct{})
}

// AppliedPosition returns the journal position of the last commit: updated
// with the sequence, before WaitSeq's waiters wake.
func (s *Store) AppliedPosition() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.position
}

// Applied returns the checkpoint as last committed, from memory (cheap
// enough to poll; Checkpoint reads the store).
func (s *Store) Applied() Checkpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Checkpoint{Seq: s.seq, Position: s.position}
}

// WaitSeq returns nil once the read model has applied ledger sequence seq,
// ctx's error if ctx ends first, or ErrClosed if the Store is closed. It
// sleeps until ApplyRecords commits; it never polls.
func (s *Store) WaitSeq(ctx context.Context, seq uint64) error {
	for {
		s.mu.Lock()
		cur, ch, closed := s.seq, s.changed, s.closed
		s.mu.Unlock()
		switch {
		case cur >= seq:
			return nil
		case closed:
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// remember adds the accounts of a committed batch to the known set.
// Called with writeMu held.
func (s *Store) remember(accounts map[accountKey]struct{}) {
	if len(s.known)+len(accounts) > knownAccountsMax {
		clear(s.known)
	}
	for k := range accounts {
		s.known[k] = struct{}{}
	}
}

// snapshot runs fn on a consistent snapshot of the store, so that a query
// of several reads sees one committed state.
func (s *Store) snapshot(fn func(r reader) error) error {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.isClosed() {
		return ErrClosed
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	return fn(snap)
}
