package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/nats-ledger/ledger/audit"
)

// TestBalancesAsOfZero: --as-of 0 is the point before the first event,
// as documented: no account, no total; the JSON says sequence 0.
func TestBalancesAsOfZero(t *testing.T) {
	dir, _ := seedDataDir(t)
	export := filepath.Join(t.TempDir(), "journal.jsonl")
	mustRun(t, "export", "--data-dir", dir, "--out", export)
	for _, src := range [][]string{{"--file", export}, {"--data-dir", dir}} {
		if out := mustRun(t, append([]string{"balances", "--as-of", "0"}, src...)...); out != "kind,account,asset,balance\n" {
			t.Errorf("balances %v --as-of 0:\n%s", src, out)
		}
	}
	out := mustRun(t, "balances", "--file", export, "--as-of", "0", "--format", "json")
	var st audit.Statement
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.AsOf.Sequence != 0 || st.AsOf.EventTime != nil ||
		len(st.Accounts) != 0 || len(st.Totals) != 0 {
		t.Fatalf("balances --as-of 0 --format json: %v\n%s", err, out)
	}
}
