package projections

import (
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// schemaVersion is stored under keySchema. A store of another version is
// refused rather than migrated: the read model is rebuilt from the
// journal. Versions 1 to 3 were SQLite files (readmodel.db), 4 the first
// Pebble store; 5 adds conversions, the FX account's entries and the rate
// table (ADR 0019), 6 account lifecycles and an owner index (ADR 0024),
// 7 the journal hash of each transfer's and hold settlement's event
// (ADR 0029).
const schemaVersion = 7

// Pebble's bounds. Memory: at most memTablesMax memtables of memTableBytes
// (writes stall past them until a flush catches up) and blockBytes of
// cached blocks, in one cache of cacheBytes (Pebble reserves the
// memtables' memory in the block cache: a cache no larger than the
// memtables caches nothing, and every lookup reads the disk, which cost
// 40% of the applier's time when first measured); the rest is the OS's
// page cache.
const (
	// blockBytes bounds the decompressed blocks kept in memory. The hot
	// part of the read model is the newest transfers, the filters and
	// indexes of every table, and every account's latest entry; 64 MiB
	// holds them for a million accounts.
	blockBytes = 64 << 20
	// cacheBytes is the cache: blocks and the memtables' reservation.
	cacheBytes = blockBytes + memTablesMax*memTableBytes
	// memTableBytes is one memtable. Larger memtables mean fewer, larger
	// flushes and L0 files; 32 MiB holds about 60k transfers.
	memTableBytes = 32 << 20
	// memTablesMax bounds the memtables queued for flushing before writes
	// stall (128 MiB).
	memTablesMax = 4
	// l0CompactionFiles is how many L0 sublevels (flushed memtables,
	// roughly) wait before Pebble compacts them into the level below (its
	// default is 4). Every such compaction rewrites the overlapping part of
	// that level, and the transfer ids and entries a batch writes overlap
	// all of it: waiting for 8 halves those rewrites, and cut the CPU of
	// applying 300k transfers by about a tenth (docs/BENCHMARKS.md, "Batch
	// throughput"). Reads check more L0 files meanwhile; the bloom filters
	// spare them a block read for every id or account a file lacks.
	l0CompactionFiles = 8
	// l0StopWritesFiles is the L0 depth at which writes stall until
	// compactions catch up: three times the threshold, as Pebble's
	// defaults (4 and 12).
	l0StopWritesFiles = 3 * l0CompactionFiles
	// bloomBitsPerKey sizes the filters that make the applier's lookup of
	// each new transfer id (a miss, nearly always) cost no block read.
	bloomBitsPerKey = 10
)

// pebbleOptions returns the store's options. bulk turns the WAL off (a
// rebuild, see OpenForRebuild); readOnly opens for an audit.
func pebbleOptions(bulk, readOnly bool) *pebble.Options {
	opts := &pebble.Options{
		Cache:                       pebble.NewCache(cacheBytes),
		MemTableSize:                memTableBytes,
		MemTableStopWritesThreshold: memTablesMax,
		FormatMajorVersion:          pebble.FormatNewest,
		DisableWAL:                  bulk,
		ReadOnly:                    readOnly,
		Logger:                      quietLogger{},
	}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(bloomBitsPerKey)
	}
	if !bulk { // the rebuild's bulk load has its own path and measurements
		opts.L0CompactionThreshold = l0CompactionFiles
		opts.L0StopWritesThreshold = l0StopWritesFiles
	}
	return opts
}

// openPebble opens a Pebble store with opts and drops the caller's
// reference to its cache, which the store keeps while open.
func openPebble(path string, opts *pebble.Options) (*pebble.DB, error) {
	defer opts.Cache.Unref()
	return pebble.Open(path, opts)
}

// quietLogger drops Pebble's informational lines (flushes, compactions,
// WAL recovery) and passes its errors to slog.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	slog.Error("read model store", "err", fmt.Sprintf(format, args...))
}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("read model store: "+format, args...))
}
