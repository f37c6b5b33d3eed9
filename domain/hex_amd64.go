package domain

// hexEqual reports whether h is sum in lower-case hex (hex_amd64.s).
//
//go:noescape
func hexEqual(h *[2 * HashSize]byte, sum *Hash) bool
