//go:build !linux

package audit

// Where the export is not mapped, every file is read with read(2)
// (source.go).

func mapFile(*FileSource) *mappedFile { return nil }

func (*mappedFile) unmap() {}

func (*mappedFile) shrank() bool { return false }

func (*mappedFile) consumed(int) {}
