package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditRefusesNonCanonicalLines rewrites one event of a real export
// in ways that keep its meaning (whitespace, a needless escape, a
// duplicate key), re-hashes the chain from there, and checks that the
// audit names the event: the hash chain alone would accept each.
func TestAuditRefusesNonCanonicalLines(t *testing.T) {
	dir, _ := seedDataDir(t)
	export := filepath.Join(t.TempDir(), "journal.jsonl")
	mustRun(t, "export", "--data-dir", dir, "--out", export)
	mustRun(t, "audit", "--file", export)

	cases := []struct{ name, old, new, detail string }{
		{"whitespace", `"from":"alice",`, `"from": "alice",`, `at byte`},
		{"escape", `"id":"t1"`, `"id":"t\u0031"`, `at byte`},
		{"duplicate key", `"amount":"30.25",`, `"amount":"99.00","amount":"30.25",`, `the key "amount" appears twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines := readExport(t, export)
			if !bytes.Contains(lines[7], []byte(c.old)) {
				t.Fatalf("event 8 has no %s: %s", c.old, lines[7])
			}
			lines[7] = bytes.Replace(lines[7], []byte(c.old), []byte(c.new), 1)
			rechain(lines, 7)
			out, _, err := ledgerCmd(t, "audit", "--file", writeExport(t, lines))
			if !errors.Is(err, errAuditFailed) || !strings.Contains(out, "canonical at sequence 8: event 8: line is not in the canonical encoding") ||
				!strings.Contains(out, c.detail) || strings.Contains(out, "hash_chain at") {
				t.Fatalf("audit of a re-hashed non-canonical line: %v\n%s", err, out)
			}
		})
	}
}
