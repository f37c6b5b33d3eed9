package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Connection limits and SQLite settings.
const (
	// readerConns bounds the read connections: WAL readers never block the
	// writer or each other, and more connections than a few busy API
	// handlers gains nothing on an embedded file.
	readerConns = 4
	// busyTimeoutMillis bounds how long a statement waits for a lock
	// (only WAL checkpoints can make a reader or the writer wait).
	busyTimeoutMillis = 5_000
	// writerCacheKiB and readerCacheKiB bound SQLite's page cache per
	// connection (64 MiB + 4 x 16 MiB in all). With SQLite's default of
	// 2 MiB the writer re-read index pages from the OS on every record
	// (8% of BenchmarkApplyRecord's time; under 1% with 64 MiB).
	writerCacheKiB = 64 << 10
	readerCacheKiB = 16 << 10
	// walCheckpointPages is how large the WAL grows (in 4 KiB pages, so
	// 64 MiB) before SQLite copies it into the database file, and the size
	// the file is truncated back to. SQLite's default of 1,000 pages made
	// the projector checkpoint every few hundred transfers, copying the
	// same hot index pages again each time: a third of its time went there
	// (BenchmarkApplyRecord over 200 records: 32k events/s, 47k with this).
	walCheckpointPages = 16_384
	// knownAccountsMax bounds the accounts remembered as existing (about
	// 5 MB): past it the set starts again, costing one lookup per account.
	knownAccountsMax = 100_000
)

// ErrSchemaVersion means the file holds a read model of another schema
// version. It is never migrated in place: move it aside (or delete it) and
// the read model is rebuilt from the journal.
var ErrSchemaVersion = errors.New("read model of another schema version")

// Store is the SQLite read model. One writer connection applies records
// (ApplyRecords is serialised); a small pool of query-only connections
// answers queries concurrently from WAL snapshots. Safe for concurrent use.
type Store struct {
	w *sql.DB // exactly one connection: SQLite has one writer
	r *sql.DB // readerConns query-only connections

	writeMu sync.Mutex // serialises ApplyRecords
	// known holds accounts that committed entries named, so that the
	// applier need not look them up again (accounts are never deleted).
	// Guarded by writeMu; cleared when it reaches knownAccountsMax.
	known map[accountKey]struct{}
	stmts writeStmts // prepared on w

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

// Open opens the read model at path, creating the file and its schema if
// missing. The file runs in WAL mode with synchronous=NORMAL: a power loss
// may lose the last few applied records, never corrupt the file, and the
// checkpoint is lost with them, so they are applied again from the journal.
func Open(path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open read model: path %q must be a plain file name", path)
	}
	common := fmt.Sprintf("%s?_busy_timeout=%d&_synchronous=NORMAL", path, busyTimeoutMillis)
	// temp_store=MEMORY keeps statement journals (which every INSERT with
	// a conflict clause needs) off the disk: they were a third of the
	// writer's time in system calls.
	w, err := sql.Open("sqlite", fmt.Sprintf("%s&_journal_mode=WAL&_txlock=immediate&_pragma=cache_size(-%d)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)", common, writerCacheKiB, walCheckpointPages, walCheckpointPages*4096))
	if err != nil {
		return nil, fmt.Errorf("open read model: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0) // keep the connection and its prepared statements
	s := &Store{w: w, changed: make(chan struct{}), known: make(map[accountKey]struct{})}
	if err := s.init(); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", fmt.Sprintf("%s&_query_only=1&_pragma=cache_size(-%d)", common, readerCacheKiB))
	if err != nil {
		s.stmts.close()
		w.Close()
		return nil, fmt.Errorf("open read model: %w", err)
	}
	r.SetMaxOpenConns(readerConns)
	r.SetMaxIdleConns(readerConns)
	s.r = r
	return s, nil
}

// init creates or checks the schema, prepares the write statements and
// loads the checkpoint.
func (s *Store) init() error {
	ctx := context.Background()
	var version int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("open read model: %w", err)
	}
	if version != 0 && version != schemaVersion {
		return fmt.Errorf("open read model: schema version %d, want %d: %w", version, schemaVersion, ErrSchemaVersion)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if err := s.stmts.prepare(ctx, s.w); err != nil {
		return err
	}
	cp, err := readCheckpoint(ctx, s.w)
	if err != nil {
		s.stmts.close()
		return err
	}
	s.seq, s.position = cp.Seq, cp.Position
	return nil
}

// Close closes the database. Waiters in WaitSeq return ErrClosed, and so
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
	s.writeMu.Lock() // let a record in flight finish
	defer s.writeMu.Unlock()
	s.stmts.close()
	return errors.Join(s.r.Close(), s.w.Close())
}

// queryer is what reads need of *sql.DB and *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readCheckpoint(ctx context.Context, q queryer) (Checkpoint, error) {
	var seq, pos int64
	if err := q.QueryRowContext(ctx, "SELECT seq, position FROM checkpoint WHERE id = 1").Scan(&seq, &pos); err != nil {
		return Checkpoint{}, fmt.Errorf("read checkpoint: %w", err)
	}
	return Checkpoint{Seq: uint64(seq), Position: uint64(pos)}, nil
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

// remember adds the accounts of a committed transaction to the known set.
// Called with writeMu held.
func (s *Store) remember(accounts map[accountKey]struct{}) {
	if len(s.known)+len(accounts) > knownAccountsMax {
		clear(s.known)
	}
	for k := range accounts {
		s.known[k] = struct{}{}
	}
}
