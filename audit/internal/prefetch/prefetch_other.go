//go:build !amd64

package prefetch

// Lines does nothing off amd64 (see the package's comment).
func Lines(addrs []uintptr) {}
