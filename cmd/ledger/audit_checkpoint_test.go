package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// lineHash reads the hash a stored line ends with.
func lineHash(t *testing.T, line []byte) domain.Hash {
	t.Helper()
	h, err := domain.ParseHash(string(line[len(line)-66 : len(line)-2]))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// forgeTail deletes event del (a posting) from an export's lines,
// renumbers the events after it (sequence and command) and re-hashes
// the chain from there: what an operator who wants a posting gone does.
func forgeTail(t *testing.T, lines [][]byte, del int) [][]byte {
	t.Helper()
	out := append(append([][]byte{}, lines[:del-1]...), lines[del:]...)
	for i := del - 1; i < len(out); i++ {
		old := uint64(i + 2)
		l := bytes.Replace(out[i], []byte(`{"seq":`+strconv.FormatUint(old, 10)+`,`), []byte(`{"seq":`+strconv.FormatUint(old-1, 10)+`,`), 1)
		out[i] = bytes.Replace(l, []byte(`"command":{"seq":`+strconv.FormatUint(old, 10)+`,`), []byte(`"command":{"seq":`+strconv.FormatUint(old-1, 10)+`,`), 1)
	}
	rechain(out, del-1)
	return out
}

// TestAuditCheckpointsCatchARewrittenTailAndATruncation: a posting
// deleted with every later event renumbered and re-hashed, and a clean
// truncation, both pass the audit on their own; checkpoints the ledger
// signed before either are not passed through, and the audit says where.
func TestAuditCheckpointsCatchARewrittenTailAndATruncation(t *testing.T) {
	dir, head := seedDataDir(t)
	export := filepath.Join(t.TempDir(), "journal.jsonl")
	mustRun(t, "export", "--data-dir", dir, "--out", export)
	lines := readExport(t, export)
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(t.TempDir(), "checkpoint.pub")
	if err := os.WriteFile(pubFile, []byte(hex.EncodeToString(pub)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cp5 := domain.SignCheckpoint(key, 5, lineHash(t, lines[4])).String()
	cp11 := domain.SignCheckpoint(key, 11, lineHash(t, lines[10])).String()
	cp12 := domain.SignCheckpoint(key, 12, head).String()

	out := mustRun(t, "audit", "--file", export, "--checkpoint", cp5, "--checkpoint", cp12, "--checkpoint", cp11, "--public-key", pubFile)
	if !strings.Contains(out, "passes through 3 of 3 checkpoints (3 signatures verified)") {
		t.Fatalf("audit through three checkpoints:\n%s", out)
	}

	forged := writeExport(t, forgeTail(t, lines, 11))
	truncated := writeExport(t, lines[:10])
	for _, path := range []string{forged, truncated} {
		mustRun(t, "audit", "--file", path) // the chain alone cannot tell
		mustRun(t, "audit", "--file", path, "--checkpoint", cp5, "--public-key", hex.EncodeToString(pub))
	}
	cases := []struct {
		name, path, cp, want string
	}{
		{"rewritten, checkpoint at the deleted event", forged, cp11,
			"checkpoint at sequence 11: the hash of event 11 is " + lineHash(t, forgeTail(t, lines, 11)[10]).String() + ", checkpoint 11 says " + lineHash(t, lines[10]).String()},
		{"rewritten, checkpoint at the old head", forged, cp12, "checkpoint at sequence 12: the journal ends at 11, before checkpoint 12:"},
		{"truncated", truncated, cp12, "checkpoint at sequence 12: the journal ends at 10, before checkpoint 12:"},
		{"truncated, unsigned checkpoint", truncated, "11:" + lineHash(t, lines[10]).String(), "it was truncated"},
	}
	for _, c := range cases {
		args := []string{"audit", "--file", c.path, "--checkpoint", c.cp}
		if strings.Count(c.cp, ":") == 2 {
			args = append(args, "--public-key", pubFile)
		}
		out, _, err := ledgerCmd(t, args...)
		if !errors.Is(err, errAuditFailed) || !strings.Contains(out, c.want) {
			t.Errorf("%s: %v\n%s", c.name, err, out)
		}
	}

	// A checkpoint the ledger did not sign: another key's, or another
	// event's signature.
	_, other, _ := ed25519.GenerateKey(nil)
	wrongKey := domain.SignCheckpoint(other, 12, head).String()
	swapped := "12:" + head.String() + ":" + strings.Split(cp11, ":")[2]
	for _, cp := range []string{wrongKey, swapped} {
		out, _, err := ledgerCmd(t, "audit", "--file", export, "--checkpoint", cp, "--public-key", pubFile)
		if !errors.Is(err, errAuditFailed) || !strings.Contains(out, "checkpoint at sequence 12: the signature of checkpoint") {
			t.Errorf("checkpoint %s: %v\n%s", cp, err, out)
		}
	}
	// A signed checkpoint needs the key; with a key, every checkpoint needs
	// a signature.
	if _, _, err := ledgerCmd(t, "audit", "--file", export, "--checkpoint", cp12); err == nil || !strings.Contains(err.Error(), "public key") {
		t.Errorf("a signed checkpoint without --public-key: %v", err)
	}
	if _, _, err := ledgerCmd(t, "audit", "--file", export, "--checkpoint", "12:"+head.String(), "--public-key", pubFile); err == nil {
		t.Error("an unsigned checkpoint with --public-key was accepted")
	}
}
