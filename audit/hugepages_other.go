//go:build !linux

package audit

// adviseHugePages is a no-op where madvise(MADV_HUGEPAGE) is not known.
func adviseHugePages([]byte) {}
