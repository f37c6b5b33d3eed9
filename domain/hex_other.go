//go:build !amd64

package domain

// hexEqual reports whether h is sum in lower-case hex: hexOfGo, where
// there is no assembly.
func hexEqual(h *[2 * HashSize]byte, sum *Hash) bool { return hexOfGo(h, sum) }
