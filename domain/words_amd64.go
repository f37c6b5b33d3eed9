package domain

import "unsafe"

// word is the eight bytes of b from i (words.go): amd64 is
// little-endian and loads a word from any address.
func word(b []byte, i int) uint64 {
	return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}
