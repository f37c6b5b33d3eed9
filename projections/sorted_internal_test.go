package projections

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestSortedBatchLastWriteOfAKeyWins writes many keys, several of them
// more than once and some deleted in between, through a sortedBatch: what
// the store holds afterwards must be each key's last write, exactly as
// if the writes had gone to the pebble.Batch in their own order.
func TestSortedBatchLastWriteOfAKeyWins(t *testing.T) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sb sortedBatch
	want := map[string]string{}
	for i := range 2_000 {
		k := fmt.Sprintf("k%03d", (i*7919)%300) // 300 keys, each written 6 or 7 times
		if i%11 == 0 {
			_ = sb.Delete([]byte(k), nil)
			delete(want, k)
			continue
		}
		v := fmt.Sprintf("v%d", i)
		_ = sb.Set([]byte(k), []byte(v), nil)
		want[k] = v
	}
	b := db.NewBatch()
	if err := sb.writeTo(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		k := fmt.Sprintf("k%03d", i)
		v, closer, err := db.Get([]byte(k))
		got, ok := "", err == nil
		if ok {
			got = string(v)
			closer.Close()
		}
		if w, wok := want[k]; ok != wok || got != w {
			t.Fatalf("%s: got %q (present %v), want %q (present %v)", k, got, ok, w, wok)
		}
	}
}
