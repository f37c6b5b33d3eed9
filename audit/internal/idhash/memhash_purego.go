//go:build purego

package idhash

import "unsafe"

// direct is false where hash/maphash is built purego: its String is then
// a hash written in Go, not the runtime's, and Sum2 calls it for every id
// (TestSumAgreesWithMaphash holds under both).
const direct = false

// memhash is never called here (direct is false).
func memhash(unsafe.Pointer, uintptr, uintptr) uintptr {
	panic("idhash: memhash without the runtime's hash")
}
