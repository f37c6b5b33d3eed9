package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// What a forger with write access to an export does: edit lines, then
// recompute the hash chain from the first edited line on, so that every
// hash covers its line and every prev_hash names the line before.

// hashSuffix is len(`,"hash":"` + 64 hex + `"}`).
const hashSuffix = 75

// readExport reads an export's lines (without their '\n').
func readExport(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// rechain rewrites each line from index from on: its prev_hash becomes the
// hash of the line before it and its hash is recomputed over its bytes.
func rechain(lines [][]byte, from int) {
	var prev [32]byte
	if from > 0 {
		l := lines[from-1]
		hex.Decode(prev[:], l[len(l)-66:len(l)-2])
	}
	for i := from; i < len(lines); i++ {
		c := append(bytes.Clone(lines[i][:len(lines[i])-hashSuffix]), '}')
		// C ends with "prev_hash":"<64 hex>"}.
		copy(c[len(c)-66:len(c)-2], hex.EncodeToString(prev[:]))
		d := sha256.New()
		d.Write(prev[:])
		d.Write(c)
		copy(prev[:], d.Sum(nil))
		lines[i] = append(append(c[:len(c)-1], `,"hash":"`...), hex.EncodeToString(prev[:])+`"}`...)
	}
}

// writeExport writes lines as an export file and returns its path.
func writeExport(t *testing.T, lines [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "forged.jsonl")
	if err := os.WriteFile(path, append(bytes.Join(lines, []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
