package node

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-ledger/ledger/projections"
)

// A read model written by a release with another schema version is moved
// aside, not opened and not deleted, and a new one starts from nothing (the
// projector then rebuilds it from the journal).
func TestOpenReadModelMovesAnotherSchemaVersionAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), ReadModelFile)
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`PRAGMA user_version = 1; CREATE TABLE entries (x); INSERT INTO entries VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	if _, err := projections.Open(path); !errors.Is(err, projections.ErrSchemaVersion) {
		t.Fatalf("projections.Open of a version 1 file: %v, want ErrSchemaVersion", err)
	}

	s, err := openReadModel(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cp, err := s.Checkpoint(context.Background())
	if err != nil || cp != (projections.Checkpoint{}) {
		t.Fatalf("new read model checkpoint %+v, %v; want zero", cp, err)
	}
	aside, err := sql.Open("sqlite", path+".schema-old")
	if err != nil {
		t.Fatal(err)
	}
	defer aside.Close()
	var x int
	if err := aside.QueryRow(`SELECT x FROM entries`).Scan(&x); err != nil || x != 42 {
		t.Fatalf("the old file moved aside holds %d, %v; want its row 42", x, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
