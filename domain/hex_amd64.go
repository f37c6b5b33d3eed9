package domain

// hexEqual reports whether h is sum in lower-case hex (hex_amd64.s).
//
//go:noescape
func hexEqual(h *[2 * HashSize]byte, sum *Hash) bool

// unhexLower decodes the 64 digits of h into sum and reports whether they
// are lower-case hex, and only those (hex_amd64.s); sum is written
// whatever h holds.
//
//go:noescape
func unhexLower(h *[2 * HashSize]byte, sum *Hash) bool
