//go:build !linux

package audit

// adviseHugePages is a no-op where madvise(MADV_HUGEPAGE) is not known.
func adviseHugePages([]byte) {}

// populateAsync does nothing where madvise(MADV_POPULATE_WRITE) is not
// known: makeTable writes the pages itself.
func populateAsync([]byte) <-chan struct{} { return nil }
