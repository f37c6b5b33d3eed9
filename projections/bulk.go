package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// A bulk build (ADR 0028) is a rebuild of the read model from the journal
// into an empty store that skips most of Pebble's write path. The applier
// is the projector's own (the same code decides every key and value); only
// where its writes go differs, by family:
//
//   - Families the applier never reads back (entries, FX entries, the
//     listing indexes, the clock, reversals) go to sorted runs: gathered
//     in memory, sorted and spilled to files in chunks of at most
//     bulkChunkBytes, merged once at the end and written as sstables, one
//     family per table, that Pebble ingests at the bottom level: no
//     memtable, no flush, no compaction.
//   - Transfer rows (t<seq>, the largest family), whose keys only grow
//     with the journal, are written per batch as one sstable and ingested
//     at once: always above every earlier key of the family, so it lands
//     at the bottom level too, and a rejection's lookup sees it.
//   - The rest (ids, accounts, assets, holds, transactions, rates, the
//     checkpoint, and every delete of a transfer row) are ordinary
//     batches, as the projector writes them.
//
// A store being built says so in its schema key (schemaBuilding): every
// Open refuses it as a store of another schema (the node moves it aside
// and rebuilds) until FinishBuild has ingested everything and written the
// real version. A crash in the middle therefore never leaves a half store
// that is served as complete.

// schemaBuilding is the schema key's value while a bulk build runs.
const schemaBuilding = "building"

// bulkL0FilesMax is where writes would stall on L0 files during a bulk
// build, which compacts nothing: never, on purpose. The batch families
// (ids, mostly) flush about 8 L0 files per million events; a stall
// would hang the build for good, while more files only cost each point
// lookup one more bloom filter. What bounds them is the journal's
// length; the server's Pebble compacts them once it opens the store.
const bulkL0FilesMax = math.MaxInt32

// minClock is the clock before any event.
const minClock = math.MinInt64

// ErrIncompleteBuild means the directory holds a bulk build that did not
// finish (a crash or an error in the middle): it wraps ErrSchemaVersion
// too, so it is moved aside and rebuilt like a store of another schema.
var ErrIncompleteBuild = errors.New("read model build did not finish")

// runFamilies are the families a bulk build sends to the sorted runs: the
// applier writes them and never reads them (the clock is read once, and a
// build carries it in memory between batches).
var runFamilies = [256]bool{famEntry: true, famFXEntry: true, famByAsset: true, famFrom: true,
	famTo: true, famRejected: true, famClock: true, famReversal: true}

// bulkBuild is the state of a bulk build between batches.
type bulkBuild struct {
	db      *pebble.DB
	wopts   sstable.WriterOptions // tables for the bottom level
	tmp     string                // spilled runs and tables to ingest; removed at the end
	runs    runSet
	lastAt  int64 // the clock's latest time, carried between batches
	nextTmp int   // names the next file in tmp
	// Scratch reused by every batch (bounded by the batch's writes):
	// the writes that go to the memtable, the new transfer rows, and the
	// applier's own batch.
	rest    sortedBatch
	rows    []sortedOp
	scratch sortedBatch
}

// OpenForBulkBuild opens a new read model at path for a bulk build from
// the journal's first event (ADR 0028): path must not exist or be empty,
// and a sibling directory path + ".bulk" holds the build's temporary
// files. Apply records in order as with any store, then call FinishBuild:
// until then the store is refused by every Open (ErrIncompleteBuild).
// Memory: the batch being applied, one chunk of runs (runBytes of keys
// and values, bulkChunkBytes when 0, and its index) and a read buffer per
// spilled chunk while merging.
func OpenForBulkBuild(path string, runBytes int) (*Store, error) {
	if runBytes <= 0 {
		runBytes = bulkChunkBytes
	}
	if entries, err := os.ReadDir(path); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("bulk build: %s is not empty", path)
	}
	tmp := path + ".bulk"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("bulk build: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("bulk build: %w", err)
	}
	opts := pebbleOptions(true, false)
	// No compactions during the build: the batch families' flushed files
	// span the run families' ranges (their letters interleave), and a
	// compaction of them into the bottom level would rewrite the run
	// tables ingested there. Their files stay in L0 until the server
	// opens the store (bulkL0FilesMax: writes never stall on them).
	opts.DisableAutomaticCompactions = true
	opts.L0StopWritesThreshold = bulkL0FilesMax
	wo := opts.Clone()
	wo.EnsureDefaults()
	s, err := openWith(path, true, opts, func(s *Store) {
		s.build = &bulkBuild{tmp: tmp, lastAt: minClock}
	})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	s.build.db = s.db
	s.build.wopts = wo.MakeWriterOptions(len(wo.Levels)-1, s.db.TableFormat())
	s.build.runs.tmp, s.build.runs.chunkBytes = tmp, runBytes
	if err := s.db.Flush(); err != nil { // the marker on disk before any table is ingested
		s.Close()
		return nil, fmt.Errorf("bulk build: %w", err)
	}
	return s, nil
}

// commit writes one ApplyRecords batch of a bulk build: run families to
// the runs, new transfer rows to a table ingested now, the rest (the
// checkpoint included) as a batch committed after the ingestion, so that
// a delete of a transfer row in this batch shadows the row. The writes
// are routed in the order the applier made them: the runs sort their
// chunks anyway, transfer rows come in sequence order, and only the
// batch's own writes (a fifth of them) are sorted for the memtable.
func (bb *bulkBuild) commit(a *applier) error {
	rest := &bb.rest
	rest.arena, rest.ops = rest.arena[:0], rest.ops[:0]
	rows := bb.rows[:0]
	for _, op := range a.b.ops {
		key, val := a.b.arena[op.key:op.end], a.b.arena[op.end:op.val]
		switch {
		case runFamilies[key[0]]:
			if err := bb.runs.add(key, val, op.del); err != nil {
				return err
			}
		case key[0] == famTransfer && !op.del:
			rows = append(rows, op)
		case op.del:
			_ = rest.Delete(key, nil)
		default:
			_ = rest.Set(key, val, nil)
		}
	}
	bb.rows = rows
	if err := bb.ingestRows(a.b, rows); err != nil {
		return err
	}
	b := bb.db.NewBatch()
	defer b.Close()
	if err := rest.writeTo(b); err != nil {
		return fmt.Errorf("bulk build: %w", err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("bulk build: commit: %w", err)
	}
	if a.clockSet {
		bb.lastAt = a.lastAt
	}
	return nil
}

// ingestRows writes the batch's new transfer rows to one table and
// ingests it: their keys are above every earlier transfer row, so the
// table goes to the bottom level.
func (bb *bulkBuild) ingestRows(src *sortedBatch, rows []sortedOp) error {
	if len(rows) == 0 {
		return nil
	}
	key := func(op sortedOp) []byte { return src.arena[op.key:op.end] }
	if !slices.IsSortedFunc(rows, func(x, y sortedOp) int { return bytes.Compare(key(x), key(y)) }) {
		slices.SortStableFunc(rows, func(x, y sortedOp) int { return bytes.Compare(key(x), key(y)) })
	}
	t, err := bb.newTable()
	if err != nil {
		return err
	}
	for _, op := range rows {
		if err := t.w.Set(key(op), src.arena[op.end:op.val]); err != nil {
			t.abort()
			return fmt.Errorf("bulk build: %w", err)
		}
	}
	return bb.ingest(t)
}

// ingest closes t and ingests it.
func (bb *bulkBuild) ingest(t ...*tableFile) error {
	paths := make([]string, 0, len(t))
	for _, f := range t {
		if err := f.w.Close(); err != nil {
			return fmt.Errorf("bulk build: write %s: %w", f.path, err)
		}
		paths = append(paths, f.path)
	}
	if len(paths) == 0 {
		return nil
	}
	if err := bb.db.Ingest(context.Background(), paths); err != nil {
		return fmt.Errorf("bulk build: ingest: %w", err)
	}
	return nil
}

// tableFile is an sstable being written in the build's temporary directory.
type tableFile struct {
	path string
	w    *sstable.Writer
}

func (t *tableFile) abort() {
	_ = t.w.Close()
	_ = os.Remove(t.path)
}

func (bb *bulkBuild) newTable() (*tableFile, error) {
	bb.nextTmp++
	path := filepath.Join(bb.tmp, strconv.Itoa(bb.nextTmp)+".sst")
	f, err := vfs.Default.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, fmt.Errorf("bulk build: %w", err)
	}
	return &tableFile{path: path, w: sstable.NewWriter(objstorageprovider.NewFileWritable(f), bb.wopts)}, nil
}

// FinishBuild ends a bulk build: it merges the runs into tables, one
// family each, ingests them, and then writes the schema version, which
// makes the store a complete read model, and flushes it. Without it (a
// crash, an error) the store stays refused. On a store opened otherwise it
// does nothing.
func (s *Store) FinishBuild(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	bb := s.build
	if bb == nil {
		return nil
	}
	if s.isClosed() {
		return ErrClosed
	}
	tables, err := bb.runs.merge(ctx, bb.newTable)
	if err == nil {
		err = bb.ingest(tables...)
	}
	if err != nil {
		for _, t := range tables {
			_ = os.Remove(t.path)
		}
		return err
	}
	if err := s.db.Set(keySchema, []byte(strconv.Itoa(schemaVersion)), pebble.NoSync); err != nil {
		return fmt.Errorf("bulk build: %w", err)
	}
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("bulk build: %w", err)
	}
	s.build = nil
	return os.RemoveAll(bb.tmp)
}

// closeBuild removes a build's temporary files (Close); the store stays
// marked as an unfinished build.
func (bb *bulkBuild) close() error {
	bb.runs.close()
	return os.RemoveAll(bb.tmp)
}

// batch returns the applier's batch for the next ApplyRecords, emptied:
// one arena reused by every batch instead of one grown per batch.
func (bb *bulkBuild) batch() *sortedBatch {
	bb.scratch.arena, bb.scratch.ops = bb.scratch.arena[:0], bb.scratch.ops[:0]
	return &bb.scratch
}
