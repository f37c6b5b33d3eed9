package domain

import "unsafe"

// maxFastDigits bounds the digits ParseLiteral reads into a uint64:
// 10^18 < 2^63, so neither the value nor its negation can overflow.
const maxFastDigits = 18

// ParseLiteral reads an amount literal (a balance with signed: a leading
// '-' allowed) in one pass, at the places it is written with, as
// ParseAmount (ParseBalance) reads it at those places. It takes only the
// common form, at most 18 digits and nothing ParseAmount would refuse,
// and reports false for anything else, which the caller then gives to
// ParseAmount or ParseBalance: it never accepts a literal they refuse nor
// reads one to another value (the audit's TestParseLiteralAgrees and
// FuzzParseLiteral). The audit's workers and the posting reader
// (scanPosting) read every posting's amounts with it.
func ParseLiteral(s string, signed bool) (v Amount, places int, ok bool) {
	x, places, ok := parseLiteral64(s, signed)
	return AmountFromInt64(x), places, ok
}

// parseLiteral64 is ParseLiteral to an int64.
func parseLiteral64(s string, signed bool) (v int64, places int, ok bool) {
	v, places, n, ok := literalPrefix(s, signed)
	return v, places, ok && n == len(s)
}

// literalPrefix reads the literal that s starts with, up to the first
// byte that is not part of it, n, as ParseLiteral reads a literal of n
// bytes (the posting reader finds the literal's end so, in the same pass).
func literalPrefix(s string, signed bool) (v int64, places, n int, ok bool) {
	i, neg := 0, false
	if signed && len(s) > 1 && s[0] == '-' {
		i, neg = 1, true
	}
	start := i
	var x uint64
	intDigits, dot := 16, false
	if useAVX2 && len(s)-i >= 16 { // 16 bytes at a time (literal_amd64.s)
		var f int
		x, intDigits, f = digits16(unsafe.StringData(s[i:]))
		dot, places = f >= 0, max(f, 0)
		i += intDigits + (f + 1)
	}
	if intDigits == 16 { // the run may go on past the window: the Go loop
		x, intDigits, places, dot, i = literalDigits(s, start)
	}
	digits := intDigits + places
	switch {
	case digits == 0 || digits > maxFastDigits, // also catches "" and "-"
		intDigits == 0, dot && places == 0, // ".5", "5."
		intDigits > 1 && s[start] == '0': // a leading zero
		return 0, 0, i, false
	}
	if neg {
		return -int64(x), places, i, true
	}
	return int64(x), places, i, true
}

// literalDigits reads the digits of s from start, then, if a '.' follows
// them, the digits after it: their value x (as one number; with more
// than 19 digits, some value), how many come before the '.' and after
// it, whether there is one, and where the literal's bytes end. It is the
// definition of what digits16 reads.
func literalDigits(s string, start int) (x uint64, intDigits, places int, dot bool, end int) {
	i := start
	for i < len(s) && s[i]-'0' <= 9 {
		x = x*10 + uint64(s[i]-'0')
		i++
	}
	intDigits, dot = i-start, i < len(s) && s[i] == '.'
	if dot {
		i++
		for i < len(s) && s[i]-'0' <= 9 {
			x = x*10 + uint64(s[i]-'0')
			i++
		}
		places = i - start - intDigits - 1
	}
	return x, intDigits, places, dot, i
}
