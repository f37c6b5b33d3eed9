package infra_test

import (
	"testing"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
)

// TestIDArchive stores ids with a mark, reads them back after a reopen,
// keeps the mark from moving back, and forgets everything on Reset.
func TestIDArchive(t *testing.T) {
	dir := t.TempDir()
	a, err := infra.OpenIDArchive(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := a.Mark(); err != nil || m != (commands.ArchiveMark{}) {
		t.Fatalf("empty archive: mark %+v, %v", m, err)
	}
	id := domain.PostedID{Key: [16]byte{1, 2, 3}, Seq: 7, Fingerprint: 0xfeedface}
	mark := commands.ArchiveMark{Through: 9, Seq: 12, Position: 3, Hash: domain.Hash{4}}
	if err := a.Archive([]domain.PostedID{id}, mark); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if a, err = infra.OpenIDArchive(dir); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got := make([]domain.PostedID, 3)
	if err := a.Lookup([][16]byte{{9}, id.Key, {1, 2, 3, 4}}, got); err != nil || got[1] != id || got[0] != (domain.PostedID{}) || got[2] != (domain.PostedID{}) {
		t.Fatalf("after a reopen: %+v, %v; want only %+v found", got, err, id)
	}
	// A rebuild archiving from the start does not move the mark back.
	if err := a.Archive(nil, commands.ArchiveMark{Through: 4, Seq: 5, Position: 2, Hash: domain.Hash{5}}); err != nil {
		t.Fatal(err)
	}
	if m, err := a.Mark(); err != nil || m != mark {
		t.Fatalf("mark after an earlier one: %+v, %v; want %+v", m, err, mark)
	}
	if err := a.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := a.Lookup([][16]byte{id.Key}, got[:1]); err != nil || got[0] != (domain.PostedID{}) {
		t.Fatalf("after Reset: %+v, %v", got[0], err)
	}
	if m, err := a.Mark(); err != nil || m != (commands.ArchiveMark{}) {
		t.Fatalf("after Reset: mark %+v, %v", m, err)
	}
}
