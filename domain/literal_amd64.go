package domain

// digits16 reads the literal's digits in the 16 bytes at p (only where
// hasAVX2; literal_amd64.s): intDigits, the run of digits p starts with,
// then, if a '.' follows them, fracDigits, the run after it (-1 if no
// '.' follows), and v, the value of all of those digits; or intDigits 16
// where the literal may go on past the window (its last digit, or the
// '.', at its end), which the caller then reads in Go.
//
//go:noescape
func digits16(p *byte) (v uint64, intDigits, fracDigits int)

// literal16 is literal16Go in one call (literal_amd64.s), where useAVX2.
//
//go:noescape
func literal16(p *byte, signed bool) (v int64, places, n int)
