package projections

import (
	"path/filepath"
	"testing"
)

// The writer's settings are what the durability note and the benchmarks
// assume: WAL, synchronous=NORMAL, a 64 MiB checkpoint threshold.
func TestWriterSettings(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "rm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for pragma, want := range map[string]string{
		"journal_mode":       "wal",
		"synchronous":        "1", // NORMAL
		"wal_autocheckpoint": "16384",
		"journal_size_limit": "67108864",
		"temp_store":         "2", // MEMORY
	} {
		var got string
		if err := s.w.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
}
