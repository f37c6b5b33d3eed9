package audit

import (
	"bufio"
	"bytes"
	"context"
	"hash/maphash"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestMappedExportStaysResidentBounded: the pages of a mapped export that
// the audit is done with are dropped from the process as it goes
// (mappedFile.consumed), so the mapping's resident size stays within the
// release step, the blocks in flight and a folio's reach, however long
// the file: here a third of it at most, where it would reach the whole
// file without the drops.
func TestMappedExportStaysResidentBounded(t *testing.T) {
	const fileBytes = 128 << 20
	path := filepath.Join(t.TempDir(), "export.jsonl")
	line := append(bytes.Repeat([]byte{'x'}, 499), '\n')
	if err := os.WriteFile(path, bytes.Repeat(line, fileBytes/len(line)), 0o600); err != nil {
		t.Fatal(err)
	}
	const workers = 2
	inFlight := (workers*orderedQueuePerWorker + 4) * (fileBlockBytes + blockSlackBytes)
	bound := releaseStepBytes + releaseBehind + inFlight + 2<<20 // a folio around the last fault
	if bound > fileBytes/3 {
		t.Fatalf("bound %d: the file is too short to tell", bound)
	}
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	chunks, peak := 0, 0
	err := pipeline(context.Background(), &FileSource{Path: path}, 1, workers, &seeds, true, true, func(b *batch) error {
		chunks++
		if chunks%8 == 0 {
			peak = max(peak, residentOfMapping(t, uintptr(unsafe.Pointer(unsafe.SliceData(b.Lines[0])))))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if chunks < fileBytes/fileBlockBytes || peak == 0 {
		t.Fatalf("%d chunks, peak resident %d: the file was not read through a mapping", chunks, peak)
	}
	t.Logf("peak resident %d bytes of the mapping (bound %d)", peak, bound)
	if peak > bound {
		t.Fatalf("the mapping's resident size reached %d bytes of the file's %d, want at most %d", peak, fileBytes, bound)
	}
}

// residentOfMapping returns the resident bytes of the mapping that holds
// addr (its Rss in /proc/self/smaps).
func residentOfMapping(t *testing.T, addr uintptr) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	for s := bufio.NewScanner(f); s.Scan(); {
		fields := strings.Fields(s.Text())
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= l && uint64(addr) < h
			continue
		}
		if in && fields[0] == "Rss:" && len(fields) >= 2 {
			kb, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return 0
}
