package prefetch_test

import (
	"testing"
	"unsafe"

	"github.com/nats-ledger/ledger/audit/internal/prefetch"
)

// TestLinesTouchesNothing: prefetching changes no memory and faults on no
// address, mapped or not, and takes an empty list.
func TestLinesTouchesNothing(t *testing.T) {
	data := make([]byte, 4096)
	for i := range data {
		data[i] = byte(i)
	}
	addrs := []uintptr{0, 1, ^uintptr(0), uintptr(unsafe.Pointer(&data[0])), uintptr(unsafe.Pointer(&data[4095]))}
	prefetch.Lines(addrs)
	prefetch.Lines(nil)
	for i := range data {
		if data[i] != byte(i) {
			t.Fatalf("byte %d changed", i)
		}
	}
}
