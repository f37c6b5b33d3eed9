package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBenchWritesACPUProfile runs a short self-started ledger bench with
// --cpuprofile: the file must be a pprof profile (gzip-compressed
// protocol buffers) that names functions of the ledger it ran, so the
// whole process (load generator and ledger) is in it.
func TestBenchWritesACPUProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.pprof")
	cmd := exec.Command(ledgerBinary(t), "bench", "--data-dir", filepath.Join(dir, "data"),
		"--duration", "1s", "--warmup", "0s", "--concurrency", "2", "--accounts", "4", "--batch", "10",
		"--cpuprofile", prof, "--json")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("ledger bench --cpuprofile: %v\n%s", err, out.String())
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile: %d bytes, want a gzip stream", len(b))
	}
	top, err := exec.Command("go", "tool", "pprof", "-raw", prof).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof: %v\n%s", err, top)
	}
	if !bytes.Contains(top, []byte("github.com/nats-ledger/ledger/")) {
		t.Fatalf("profile names no function of the ledger:\n%.2000s", top)
	}
}
