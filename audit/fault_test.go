package audit

import (
	"errors"
	"testing"
)

// TestLineChangedUnderTheBooksIsAnError: a compact posting's event is
// built from its line only when the books need its strings (lazyEvent).
// A mapped export's line can read differently by then, if the file was
// rewritten in place: that ends the run as ErrExportChanged, as a file
// that shrank does, not with a crash. Here the line the worker took is
// replaced by bytes that are no event, as such a rewrite leaves them.
func TestLineChangedUnderTheBooksIsAnError(t *testing.T) {
	lines := testLines(t)
	line := append([]byte(nil), lines[len(lines)-1]...)
	prev, hash := stored(lines[len(lines)-2]), stored(line)
	var z lazyEvent
	z.reset(line, &prev, &hash)
	if ev := z.event(); ev == nil || ev.Seq == 0 {
		t.Fatalf("the line as the worker read it: event %+v", ev)
	}
	z.reset(line, &prev, &hash)
	copy(line, "\x00\x00\x00\x00\x00\x00\x00\x00") // rewritten since
	err := consumeGuarded(func(*batch) error {
		z.event()
		return nil
	}, nil)
	if !errors.Is(err, ErrExportChanged) {
		t.Fatalf("books reading a changed line: %v, want ErrExportChanged", err)
	}
}
