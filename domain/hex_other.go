//go:build !amd64

package domain

// hexEqual reports whether h is sum in lower-case hex: hexOfGo, where
// there is no assembly.
func hexEqual(h *[2 * HashSize]byte, sum *Hash) bool { return hexOfGo(h, sum) }

// unhexLower decodes h into sum and reports whether h is lower-case hex:
// parseLowerHexGo, where there is no assembly.
func unhexLower(h *[2 * HashSize]byte, sum *Hash) bool { return parseLowerHexGo(h, sum) }
