package node

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/nats-ledger/ledger/projections"
)

// openReadModel opens the read model at path. A file of another schema
// version (written by another release) is moved aside, with its WAL, to
// path + ".schema-old", replacing an older one there, and a new read
// model is built from the journal: it is derived data, and rebuilding is
// the only migration.
func openReadModel(path string, log *slog.Logger) (*projections.Store, error) {
	s, err := projections.Open(path)
	if !errors.Is(err, projections.ErrSchemaVersion) {
		return s, err
	}
	aside := path + ".schema-old"
	log.Warn("read model is of another schema version: moving it aside and rebuilding it from the journal", "err", err, "moved_to", aside)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("move the old read model aside: %w", err)
		}
	}
	return projections.Open(path)
}
