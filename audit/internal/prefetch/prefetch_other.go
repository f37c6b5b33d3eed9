//go:build !amd64

package prefetch

// Lines does nothing off amd64 (see the package's comment).
func Lines(addrs []uintptr) {}

// Bytes does nothing off amd64 (see the package's comment).
func Bytes(b []byte) {}
