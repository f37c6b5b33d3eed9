package node

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/nats-ledger/ledger/projections"
)

// A read model written by a release with another schema version is moved
// aside, not opened and not deleted, and a new one starts from nothing (the
// projector then rebuilds it from the journal). The version is the value
// of the key "ms" (docs/adr/0014-read-model-on-pebble.md).
func TestOpenReadModelMovesAnotherSchemaVersionAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ReadModelDir)
	old, err := pebble.Open(path, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Set([]byte("ms"), []byte("3"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := old.Set([]byte("x"), []byte("42"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	old.Close()
	if _, err := projections.Open(path); err == nil {
		t.Fatal("projections.Open of a version 3 store succeeded")
	}

	s, err := openReadModel(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cp, err := s.Checkpoint(context.Background())
	if err != nil || cp != (projections.Checkpoint{}) {
		t.Fatalf("new read model checkpoint %+v, %v; want zero", cp, err)
	}
	aside, err := pebble.Open(path+".schema-old", &pebble.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer aside.Close()
	v, closer, err := aside.Get([]byte("x"))
	if err != nil || string(v) != "42" {
		t.Fatalf("the old store moved aside holds %q, %v; want its row 42", v, err)
	}
	closer.Close()
}

// The SQLite read model of an earlier release is removed, with its WAL
// companions, and the new store starts empty.
func TestOpenReadModelRemovesTheSQLiteFile(t *testing.T) {
	dir := t.TempDir()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.WriteFile(filepath.Join(dir, LegacyReadModelFile+suffix), []byte("SQLite format 3\x00"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := openReadModel(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(filepath.Join(dir, LegacyReadModelFile+suffix)); !os.IsNotExist(err) {
			t.Errorf("%s%s left: %v", LegacyReadModelFile, suffix, err)
		}
	}
	if cp := s.Applied(); cp != (projections.Checkpoint{}) {
		t.Fatalf("new read model at %+v", cp)
	}
}
