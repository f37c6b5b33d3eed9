package infra_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
)

func TestSnapshotStore(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	ctx := context.Background()
	store, err := infra.EnsureSnapshotStore(ctx, srv.JS, srv.Names, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := infra.EnsureSnapshotStore(ctx, srv.JS, srv.Names, 1); err != nil {
		t.Fatalf("a second EnsureSnapshotStore: %v", err)
	}
	if infos, err := store.List(ctx); err != nil || len(infos) != 0 {
		t.Fatalf("empty store lists %v, %v", infos, err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // several chunks
	for _, s := range []struct {
		seq  uint64
		data []byte
	}{{9, []byte("nine")}, {100, big}, {10, []byte("ten")}} {
		if err := store.Save(ctx, s.seq, bytes.NewReader(s.data)); err != nil {
			t.Fatalf("save %d: %v", s.seq, err)
		}
	}
	infos, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 3 || infos[0].Seq != 100 || infos[1].Seq != 10 || infos[2].Seq != 9 || infos[0].Size != int64(len(big)) {
		t.Fatalf("list: %+v, want 100, 10, 9 newest first", infos)
	}
	got, err := store.Load(ctx, 100, int64(len(big)))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("load 100: %d bytes, %v", len(got), err)
	}
	if _, err := store.Load(ctx, 100, int64(len(big))-1); err == nil {
		t.Fatal("a snapshot over the size limit was loaded")
	}
	if err := store.Save(ctx, 10, bytes.NewReader([]byte("ten again"))); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Load(ctx, 10, 100); string(got) != "ten again" {
		t.Fatalf("replaced snapshot reads %q", got)
	}
	if err := store.Delete(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if infos, _ := store.List(ctx); len(infos) != 2 {
		t.Fatalf("after delete: %+v", infos)
	}
	if _, err := store.Load(ctx, 9, 100); err == nil {
		t.Fatal("a deleted snapshot loads")
	}
}

// failingReader fails after some bytes, as an encoder that hits an error
// would.
type failingReader struct{ left int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errors.New("encoder failed")
	}
	n := min(len(p), f.left)
	f.left -= n
	return n, nil
}

func TestSnapshotStoreFailedSaveLeavesNothing(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	ctx := context.Background()
	store, err := infra.EnsureSnapshotStore(ctx, srv.JS, srv.Names, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, 5, &failingReader{left: 300_000}); err == nil {
		t.Fatal("a failed save returned nil")
	}
	if infos, err := store.List(ctx); err != nil || len(infos) != 0 {
		t.Fatalf("a failed save left %+v (%v)", infos, err)
	}
	var _ io.Reader = (*failingReader)(nil)
}
