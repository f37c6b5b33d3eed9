//go:build !amd64

package domain

import (
	"encoding/binary"
	"unsafe"
)

// word is the eight bytes of b from i (words.go).
func word(b []byte, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))[:])
}
