package domain

import (
	"encoding/binary"
	"math/bits"
	"time"
	"unicode/utf8"
)

// The primitives of the canonical reader (decode.go): literals, strings
// without escapes, non-negative integers and UTC times, each refusing
// anything encoding/json might read differently.

// scanner reads a line; bad is set at the first byte that is not the
// canonical encoding, after which every method is a no-op.
type scanner struct {
	b   []byte
	i   int
	bad bool
	// escapable: a string holds what the encoding would have escaped
	// ('<', '>', '&', U+2028, U+2029), which the reader takes as it is:
	// such a line is not canonical (Line.Canonical).
	escapable bool
}

// lit consumes the literal s.
func (p *scanner) lit(s string) {
	if p.bad || len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		p.bad = true
		return
	}
	p.i += len(s)
}

// opt consumes the literal s if it comes next and reports whether it did.
func (p *scanner) opt(s string) bool {
	if p.bad || len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// str reads a JSON string that needs no unescaping: printable ASCII or
// valid UTF-8, without '\\' or control characters. encoding/json returns
// such a string's bytes unchanged.
func (p *scanner) str() span {
	if p.bad || p.i >= len(p.b) || p.b[p.i] != '"' {
		p.bad = true
		return span{}
	}
	start := p.i + 1
	ascii := true
	for j := start; ; j++ {
		// Eight bytes at a time, straight to the first that needs a
		// closer look (strMask's lowest bit is exact).
		for j+8 <= len(p.b) {
			if m := strMask(binary.LittleEndian.Uint64(p.b[j:])); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		if j >= len(p.b) {
			p.bad = true
			return span{}
		}
		switch c := p.b[j]; {
		case c == '"':
			if !ascii && !utf8.Valid(p.b[start:j]) {
				p.bad = true
				return span{}
			}
			p.i = j + 1
			return span{int32(start), int32(j)}
		case c == '\\' || c < 0x20:
			p.bad = true
			return span{}
		case c >= 0x80:
			ascii = false
			// U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
			if c == 0xe2 && j+2 < len(p.b) && p.b[j+1] == 0x80 && p.b[j+2]&^1 == 0xa8 {
				p.escapable = true
			}
		case c == '<' || c == '>' || c == '&':
			p.escapable = true
		}
	}
}

// special reports whether any byte of the eight in x is '"', '\\', a
// control character or not ASCII.
func special(x uint64) bool { return specialMask(x) != 0 }

// specialMask has the top bit of each byte of x that is '"', '\\', a
// control character or not ASCII set, and maybe of some bytes above the
// lowest such one, never below it: its lowest set bit marks exactly the
// first special byte. Each term is the classic exact test for "some byte
// is zero" (for '"' and '\\', after an xor) or "some byte is below n",
// whose borrows run only upwards; x&msb finds bytes from 0x80 up.
func specialMask(x uint64) uint64 {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	return ((q-lsb)&^q | (bs-lsb)&^bs | (x-lsb*0x20)&^x | x) & msb
}

// strMask is specialMask with '&', '<' and '>' too (the string reader
// stops there to note them): '<' and '>' in one test, as they differ in
// bit 1 alone (x|2 is '>' for exactly these two).
func strMask(x uint64) uint64 {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	amp := x ^ (lsb * '&')
	ltgt := (x | lsb*2) ^ (lsb * '>')
	return specialMask(x) | ((amp-lsb)&^amp|(ltgt-lsb)&^ltgt)&msb
}

// uint reads a JSON number that is a non-negative integer without a
// leading zero and fits in max.
func (p *scanner) uint(max uint64) uint64 {
	if p.bad || p.i >= len(p.b) {
		p.bad = true
		return 0
	}
	start := p.i
	var v uint64
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c < '0' || c > '9' {
			break
		}
		d := uint64(c - '0')
		// 18 digits fit in an int and in a uint64, the bounds it reads
		// to: only a longer number pays for the division.
		if (p.i-start >= 18 || max < 1e18) && v > (max-d)/10 {
			p.bad = true
			return 0
		}
		v = v*10 + d
		p.i++
	}
	if p.i == start || p.b[start] == '0' && p.i-start > 1 {
		p.bad = true
	}
	// A fraction or exponent would make it a float: not canonical.
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.bad = true
	}
	return v
}

const maxInt = int(^uint(0) >> 1)

func (p *scanner) int() int { return int(p.uint(uint64(maxInt))) }

// clock is a checked UTC time, not yet a time.Time: building one costs
// more than a rebuild can spare per event, and State.Apply never reads it.
type clock struct {
	year, month, day, hour, minute, sec, nsec int32
}

func (c clock) time() time.Time {
	return time.Date(int(c.year), time.Month(c.month), int(c.day), int(c.hour), int(c.minute), int(c.sec), int(c.nsec), time.UTC)
}

// time reads a UTC time as encoding/json writes it (RFC 3339 with 'Z' and
// up to nine fractional digits), with time.Time's own range checks.
func (p *scanner) time() clock {
	s := p.str()
	if p.bad {
		return clock{}
	}
	b := p.b[s.a:s.b]
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		p.bad = true
		return clock{}
	}
	num := func(b []byte, min, max int) int {
		x := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				p.bad = true
				return min
			}
			x = x*10 + int(c-'0')
		}
		if x < min || x > max {
			p.bad = true
			return min
		}
		return x
	}
	year := num(b[0:4], 0, 9999)
	month := num(b[5:7], 1, 12)
	day := num(b[8:10], 1, daysIn(month, year))
	hour := num(b[11:13], 0, 23)
	minute := num(b[14:16], 0, 59)
	sec := num(b[17:19], 0, 59)
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			p.bad = true
			return clock{}
		}
		nsec = num(frac[1:], 0, 999_999_999)
		for range 10 - len(frac) {
			nsec *= 10
		}
	}
	if p.bad {
		return clock{}
	}
	return clock{int32(year), int32(month), int32(day), int32(hour), int32(minute), int32(sec), int32(nsec)}
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
