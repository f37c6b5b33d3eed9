package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBenchWritesACPUProfile runs ledger bench against a ledger it starts
// with --cpuprofile: the file must be a gzipped pprof profile whose
// samples carry the phase label, so that one profile of a run tells the
// ledger apart from the baselines (go tool pprof -tagfocus phase=ledger).
func TestBenchWritesACPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	cmd := exec.Command(ledgerBinary(t), "bench", "--duration", "1s", "--warmup", "0s",
		"--concurrency", "2", "--accounts", "4", "--cpuprofile", path, "--json")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench --cpuprofile: %v\n%s", err, stderr.String())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("the profile is not gzipped as pprof writes it: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// Label keys and values are in the profile's string table.
	for _, s := range []string{"phase", "ledger", "samples"} {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("the profile has no %q string", s)
		}
	}
}
