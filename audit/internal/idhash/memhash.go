//go:build !purego

package idhash

import "unsafe"

// direct is whether a uintptr holds a whole 64-bit hash, so that
// maphash.String makes one call of the runtime's hash (on a 32-bit
// platform it makes two, for the two halves).
const direct = unsafe.Sizeof(uintptr(0)) == 8

// memhash is the runtime's hash of s bytes at p with seed h, the one
// maphash.String calls (hash/maphash's runtime_memhash). It is one of
// the runtime's functions that the Go project keeps callable this way
// for code outside the standard library (its comment in runtime/alg.go,
// go.dev/issue/67401).
//
//go:linkname memhash runtime.memhash
//go:noescape
func memhash(p unsafe.Pointer, h, s uintptr) uintptr
