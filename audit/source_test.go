package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestSizeHintFromLineLengths: an export's events are estimated from the
// mean length of its first lines, never from lines shorter than
// minEventBytes, and standard input has no estimate.
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
}
