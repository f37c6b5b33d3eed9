package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"testing"
)

// TestSizeHintFromLineLengths: an export's events are estimated from the
// mean length of its lines in windows spread over it, never from lines
// shorter than minEventBytes, and standard input has no estimate.
func TestSizeHintFromLineLengths(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, lineLen, lines int) string {
		line := append(bytes.Repeat([]byte{'x'}, lineLen-1), '\n')
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, bytes.Repeat(line, lines), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		lineLen, lines int
		want           uint64
	}{
		{600, 10_000, 10_000}, // longer than the sample: its mean line
		{600, 100, 100},
		{100, 10_000, 100 * 10_000 / minEventBytes}, // short lines: at least minEventBytes a line
	} {
		path := write(fmt.Sprintf("%d-%d", tc.lineLen, tc.lines), tc.lineLen, tc.lines)
		if got := (&FileSource{Path: path}).sizeHint(); got != tc.want {
			t.Errorf("%d lines of %d bytes: hint %d, want %d", tc.lines, tc.lineLen, got, tc.want)
		}
	}
	if got := (&FileSource{Path: "-"}).sizeHint(); got != 0 {
		t.Errorf("standard input: hint %d, want 0", got)
	}
	// A journal's first lines (assets, accounts) are shorter than its
	// postings: the mean is taken over the whole file, not its start,
	// which alone would make it 21,000 × 600 / 420 = 30,000.
	short, long := bytes.Repeat(append(bytes.Repeat([]byte{'a'}, 419), '\n'), 1_000), bytes.Repeat(append(bytes.Repeat([]byte{'p'}, 599), '\n'), 20_000)
	path := filepath.Join(dir, "journal")
	if err := os.WriteFile(path, append(short, long...), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := (&FileSource{Path: path}).sizeHint(); got < 21_000 || got > 21_000*105/100 {
		t.Errorf("1,000 lines of 420 bytes, then 20,000 of 600: hint %d, want 21,000 to 5%% more", got)
	}
}

// TestExportShrinkingWhileMappedIsAnError: an export file that shrinks
// while the audit reads it through a mapping ends the run with
// ErrExportChanged, not with SIGBUS. The file is truncated when the first
// chunk is consumed, long before the reader has cut the rest of it.
func TestExportShrinkingWhileMappedIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "export.jsonl")
	line := append(bytes.Repeat([]byte{'x'}, 499), '\n')
	if err := os.WriteFile(path, bytes.Repeat(line, 64<<20/len(line)), 0o600); err != nil {
		t.Fatal(err)
	}
	if m := mapFile(&FileSource{Path: path}); m == nil {
		t.Fatal("the export is not mapped: the test would not test the mapping")
	} else {
		m.unmap()
	}
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	chunks := 0
	err := pipeline(context.Background(), &FileSource{Path: path}, 1, 2, &seeds, true, true, func(b *batch) error {
		chunks++
		if chunks == 1 {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}
		for _, l := range b.Lines {
			_ = l[len(l)-1] // what the engine reads of a line, at least
		}
		return nil
	})
	if !errors.Is(err, ErrExportChanged) {
		t.Fatalf("after %d chunks: %v, want %v", chunks, err, ErrExportChanged)
	}
}
