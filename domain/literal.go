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
	if useAVX2 && len(s) >= 17 { // the sign and 16 bytes (literal_amd64.s)
		if v, places, n, ok, read := literalPrefix16(s, signed); read {
			return v, places, n, ok
		}
	}
	i, neg := 0, false
	if signed && len(s) > 1 && s[0] == '-' {
		i, neg = 1, true
	}
	start := i
	var x uint64
	for i < len(s) && s[i]-'0' <= 9 {
		x = x*10 + uint64(s[i]-'0')
		i++
	}
	intDigits, dot := i-start, i < len(s) && s[i] == '.'
	if dot {
		i++
		for i < len(s) && s[i]-'0' <= 9 {
			x = x*10 + uint64(s[i]-'0')
			i++
		}
		places = i - start - intDigits - 1
	}
	return literalEnd(s, start, i, x, intDigits, places, dot, neg)
}

// literalPrefix16 is literalPrefix with the digits read 16 bytes at a
// time (digits16), for s of at least 17 bytes; read is false where the
// literal may go on past the window, which literalPrefix's loop, the
// definition, then reads.
func literalPrefix16(s string, signed bool) (v int64, places, n int, ok, read bool) {
	i, neg := 0, false
	if signed && s[0] == '-' {
		i, neg = 1, true
	}
	x, intDigits, f := digits16(unsafe.StringData(s[i:]))
	if intDigits == 16 {
		return 0, 0, 0, false, false
	}
	v, places, n, ok = literalEnd(s, i, i+intDigits+f+1, x, intDigits, max(f, 0), f >= 0, neg)
	return v, places, n, ok, true
}

// literal16Go reads the literal in the 17 bytes at p (the sign where
// signed, and 16 bytes) as literalPrefix16 does: its value, places and
// length n, or n 0 where it is not a literal ParseLiteral takes, or n -1
// where it may go on past the window (literalPrefix16's !read), which
// the caller reads otherwise. It is the definition of literal16, the
// posting reader's call (literal_amd64.s), which TestLiteral16Agrees
// holds to it.
func literal16Go(p *byte, signed bool) (v int64, places, n int) {
	v, places, n, ok, read := literalPrefix16(unsafe.String(p, 17), signed)
	switch {
	case !read:
		return 0, 0, -1
	case !ok:
		return 0, 0, 0
	}
	return v, places, n
}

// literalEnd is literalPrefix's verdict on a literal of s read from
// start to end: x, the value of its digits, intDigits before the '.'
// (if dot) and places after it.
func literalEnd(s string, start, end int, x uint64, intDigits, places int, dot, neg bool) (int64, int, int, bool) {
	switch digits := intDigits + places; {
	case digits == 0 || digits > maxFastDigits, // also catches "" and "-"
		intDigits == 0, dot && places == 0, // ".5", "5."
		intDigits > 1 && s[start] == '0': // a leading zero
		return 0, 0, end, false
	}
	if neg {
		return -int64(x), places, end, true
	}
	return int64(x), places, end, true
}

// literalAt reads from i the characters of an amount literal that
// ParseLiteral takes (signed: a balance): their span (empty if they are
// not one), value and places, and where they end; the closing quote is
// the next literal's.
func literalAt(b []byte, i int, signed bool) (span, int64, int8, int) {
	if useAVX2 && len(b)-i >= 17 { // the sign and 16 bytes, in one call
		v, places, n := literal16(byteAt(b, i), signed)
		if n > 0 {
			return span{int32(i), int32(i + n)}, v, int8(places), i + n
		}
		if n == 0 {
			return span{}, 0, 0, i
		}
	}
	if i >= len(b) {
		return span{}, 0, 0, i
	}
	v, places, n, ok := literalPrefix(unsafe.String(&b[i], len(b)-i), signed)
	if !ok {
		return span{}, 0, 0, i
	}
	return span{int32(i), int32(i + n)}, v, int8(places), i + n
}
