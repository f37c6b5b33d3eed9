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

// TestBytesTouchesNothing: prefetching a slice changes none of its bytes,
// takes any length and alignment, and an empty or nil slice.
func TestBytesTouchesNothing(t *testing.T) {
	data := make([]byte, 4096+300)
	for i := range data {
		data[i] = byte(i)
	}
	for from := range 130 {
		for _, n := range []int{0, 1, 63, 64, 127, 128, 129, 255, 4096} {
			prefetch.Bytes(data[from : from+n])
		}
	}
	prefetch.Bytes(nil)
	for i := range data {
		if data[i] != byte(i) {
			t.Fatalf("byte %d changed", i)
		}
	}
}
