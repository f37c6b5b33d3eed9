package e2e_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-ledger/ledger/node"
)

// A data directory of an earlier release holds the SQLite read model
// (readmodel.db) and no Pebble store: the ledger starts, removes the old
// file, and rebuilds the read model from the journal, so reads answer as
// before the upgrade.
func TestE2EUpgradeFromTheSQLiteReadModel(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.mint(t, "alice", "7.25")
	moved := l.mint(t, "alice", "2.50")
	before := l.account(t, "alice", "")
	dir := l.dataDir
	l.stop()
	// The directory as the earlier release left it.
	if err := os.RemoveAll(filepath.Join(dir, node.ReadModelDir)); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.WriteFile(filepath.Join(dir, node.LegacyReadModelFile+suffix), []byte("SQLite format 3\x00"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	l = e2eLaunch(t, node.Config{DataDir: dir})
	after := l.account(t, "alice", "")
	if after.Balance != "9.75" || after.Balance != before.Balance || !after.CreatedAt.Equal(before.CreatedAt) {
		t.Fatalf("alice after the upgrade: %+v; before: %+v", after, before)
	}
	if got := e2eJSON[e2eTransfer](t, l.do(t, http.MethodGet, "/v1/transfers/"+moved.ID, nil), http.StatusOK); got.Status != "posted" || got.Amount != "2.50" {
		t.Fatalf("transfer %s after the upgrade: %+v", moved.ID, got)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(filepath.Join(dir, node.LegacyReadModelFile+suffix)); !os.IsNotExist(err) {
			t.Errorf("%s%s is still there: %v", node.LegacyReadModelFile, suffix, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, node.ReadModelDir)); err != nil || !fi.IsDir() {
		t.Fatalf("the Pebble read model: %v", err)
	}
}
