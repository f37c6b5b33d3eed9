package infra

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// IDArchiveDir is the archive's directory in the data directory.
const IDArchiveDir = "postedids"

// IDArchive is the processor's archive of posted ids (commands.IDArchive,
// ADR 0027): a Pebble store whose keys are the ids' 16-byte keys and whose
// values are the sequence and fingerprint (big-endian), beside one mark
// key. Every level has a bloom filter, so that the lookup of a new id,
// which is absent nearly always, reads no data block.
type IDArchive struct {
	db *pebble.DB
}

var _ commands.IDArchive = (*IDArchive)(nil)

// The archive's bounds. Its memory is the block cache, which also holds
// the memtables' reservation: lookups are of random keys, so the cache
// mostly holds the filters and indexes of the newest tables; older ones
// are read through the OS's page cache.
const (
	// archiveBlockBytes bounds the cached blocks (filters, indexes, data).
	archiveBlockBytes = 32 << 20
	// archiveMemTableBytes is one memtable: an eviction of 250k ids is
	// about 12 MB of batch.
	archiveMemTableBytes = 16 << 20
	// archiveMemTablesMax bounds the memtables waiting for a flush.
	archiveMemTablesMax = 4
	// archiveBloomBitsPerKey: 10 bits per key make about 1% of the
	// lookups of an absent id read a block, per level that holds keys.
	archiveBloomBitsPerKey = 10
)

// archiveMarkKey holds the mark. Ids' keys are 16 bytes, so no id's key
// is this one.
var archiveMarkKey = []byte("\x00mark")

const archiveMarkBytes = 8 + 8 + 8 + domain.HashSize

// archiveKeysEnd is above every key of the archive, for Reset.
var archiveKeysEnd = []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")

// OpenIDArchive opens (creating if missing) the archive in the directory
// path.
func OpenIDArchive(path string) (*IDArchive, error) {
	opts := &pebble.Options{
		Cache:                       pebble.NewCache(archiveBlockBytes + archiveMemTablesMax*archiveMemTableBytes),
		MemTableSize:                archiveMemTableBytes,
		MemTableStopWritesThreshold: archiveMemTablesMax,
		FormatMajorVersion:          pebble.FormatNewest,
		Logger:                      archiveLogger{},
	}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(archiveBloomBitsPerKey)
	}
	defer opts.Cache.Unref()
	db, err := pebble.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("open posted-id archive %s: %w", path, err)
	}
	return &IDArchive{db: db}, nil
}

// Close closes the archive.
func (a *IDArchive) Close() error { return a.db.Close() }

// Lookup implements commands.IDArchive with one iterator for all keys,
// seeking each by prefix with the filters of every level consulted:
// Pebble's Get skips the filters of the last level, which holds most ids,
// and read a data block for nearly every absent id.
func (a *IDArchive) Lookup(keys [][16]byte, ids []domain.PostedID) error {
	if len(keys) == 0 {
		return nil
	}
	it, err := a.db.NewIter(&pebble.IterOptions{UseL6Filters: true})
	if err != nil {
		return err
	}
	for i, k := range keys {
		ids[i] = domain.PostedID{}
		if !it.SeekPrefixGE(k[:]) || !bytes.Equal(it.Key(), k[:]) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		if len(v) != 16 {
			it.Close()
			return fmt.Errorf("posted id %x: value of %d bytes", k, len(v))
		}
		ids[i] = domain.PostedID{Key: k, Seq: binary.BigEndian.Uint64(v), Fingerprint: binary.BigEndian.Uint64(v[8:])}
	}
	return it.Close()
}

// Archive implements commands.IDArchive: one synced batch.
func (a *IDArchive) Archive(ids []domain.PostedID, mark commands.ArchiveMark) error {
	stored, err := a.Mark()
	if err != nil {
		return err
	}
	if stored.Seq > mark.Seq {
		mark.Seq, mark.Position, mark.Hash = stored.Seq, stored.Position, stored.Hash
	}
	mark.Through = max(mark.Through, stored.Through)
	b := a.db.NewBatch()
	defer b.Close()
	var v [16]byte
	for _, id := range ids {
		binary.BigEndian.PutUint64(v[:], id.Seq)
		binary.BigEndian.PutUint64(v[8:], id.Fingerprint)
		if err := b.Set(id.Key[:], v[:], nil); err != nil {
			return err
		}
	}
	if err := b.Set(archiveMarkKey, encodeArchiveMark(mark), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// Mark implements commands.IDArchive.
func (a *IDArchive) Mark() (commands.ArchiveMark, error) {
	v, closer, err := a.db.Get(archiveMarkKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return commands.ArchiveMark{}, nil
	}
	if err != nil {
		return commands.ArchiveMark{}, err
	}
	defer closer.Close()
	if len(v) != archiveMarkBytes {
		return commands.ArchiveMark{}, fmt.Errorf("posted-id archive mark of %d bytes", len(v))
	}
	m := commands.ArchiveMark{Through: binary.BigEndian.Uint64(v), Seq: binary.BigEndian.Uint64(v[8:]), Position: binary.BigEndian.Uint64(v[16:])}
	copy(m.Hash[:], v[24:])
	return m, nil
}

func encodeArchiveMark(m commands.ArchiveMark) []byte {
	b := make([]byte, 0, archiveMarkBytes)
	b = binary.BigEndian.AppendUint64(b, m.Through)
	b = binary.BigEndian.AppendUint64(b, m.Seq)
	b = binary.BigEndian.AppendUint64(b, m.Position)
	return append(b, m.Hash[:]...)
}

// Reset implements commands.IDArchive: one synced range deletion, which
// compactions then reclaim.
func (a *IDArchive) Reset() error {
	return a.db.DeleteRange([]byte{}, archiveKeysEnd, pebble.Sync)
}

// archiveLogger drops Pebble's informational lines and passes its errors
// to slog.
type archiveLogger struct{}

func (archiveLogger) Infof(string, ...any) {}
func (archiveLogger) Errorf(format string, args ...any) {
	slog.Error("posted-id archive", "err", fmt.Sprintf(format, args...))
}
func (archiveLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("posted-id archive: "+format, args...))
}
