//go:build !amd64

package domain

// word is wordLE.
func word(b []byte, i int) uint64 { return wordLE(b, i) }
