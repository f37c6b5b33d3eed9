package audit

import (
	"syscall"
	"testing"
	"unsafe"
)

// TestPopulateKeepsConcurrentWrites: the table's pages are mapped on
// another thread while the table is written (makeTable, populateAsync):
// every write must survive, and once it is done every page must be
// resident (mincore), which it is not before.
func TestPopulateKeepsConcurrentWrites(t *testing.T) {
	// Fresh anonymous memory, as a large table is: the runtime's heap
	// may hold pages it has touched already.
	b, err := syscall.Mmap(-1, 0, 2*asyncPopulateMin, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(b)
	table := unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), len(b)/8)
	if r := resident(t, b); r > len(b)/2 {
		t.Fatalf("%d of %d bytes resident before populating: the test would prove nothing", r, len(b))
	}
	half := len(table) / 2
	for i := range table[:half] {
		table[i] = uint64(i) + 1
	}
	done := populateAsync(b)
	if done == nil {
		t.Fatal("this kernel does not offer MADV_POPULATE_WRITE (Linux 5.14): makeTable writes each page itself")
	}
	for i := half; i < len(table); i++ {
		table[i] = uint64(i) + 1
	}
	<-done
	for i, v := range table {
		if v != uint64(i)+1 {
			t.Fatalf("slot %d holds %d after populating, want %d", i, v, i+1)
		}
	}
	if r := resident(t, b); r < len(b)-2*4096 {
		t.Fatalf("%d of %d bytes resident after populating", r, len(b))
	}
}

// resident is how many bytes of the pages wholly inside b are resident.
func resident(t *testing.T, b []byte) int {
	const page = 4096
	start := uintptr(unsafe.Pointer(&b[0]))
	from := (start+page-1)&^(page-1) - start
	to := (start+uintptr(len(b)))&^(page-1) - start
	vec := make([]byte, (to-from)/page)
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, start+from, to-from, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n * page
}
