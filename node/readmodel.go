package node

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/nats-ledger/ledger/projections"
)

// openReadModel opens the read model of the data directory dataDir. A
// store of another schema version (written by another release) is moved
// aside to ReadModelDir + ".schema-old", replacing an older one there,
// and a new read model is built from the journal: it is derived data, and
// rebuilding is the only migration. The SQLite file of earlier releases
// (LegacyReadModelFile) is removed the same way: the new store starts
// empty and the projector rebuilds it from the journal.
func openReadModel(dataDir string, log *slog.Logger) (*projections.Store, error) {
	path := filepath.Join(dataDir, ReadModelDir)
	s, err := projections.Open(path)
	if errors.Is(err, projections.ErrSchemaVersion) {
		aside := path + ".schema-old"
		log.Warn("read model is of another schema version: moving it aside and rebuilding it from the journal", "err", err, "moved_to", aside)
		if err := os.RemoveAll(aside); err != nil {
			return nil, fmt.Errorf("move the old read model aside: %w", err)
		}
		if err := os.Rename(path, aside); err != nil {
			return nil, fmt.Errorf("move the old read model aside: %w", err)
		}
		s, err = projections.Open(path)
	}
	if err != nil {
		return nil, err
	}
	if err := removeLegacyReadModel(dataDir, log); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// removeLegacyReadModel removes the SQLite read model of earlier releases
// and its WAL companions, if they are there.
func removeLegacyReadModel(dataDir string, log *slog.Logger) error {
	legacy := filepath.Join(dataDir, LegacyReadModelFile)
	if _, err := os.Stat(legacy); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	log.Warn("removing the SQLite read model of an earlier release: the read model is rebuilt from the journal into "+ReadModelDir, "file", legacy)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(legacy + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the earlier read model: %w", err)
		}
	}
	return nil
}
