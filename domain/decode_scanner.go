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
	b, start := p.b, p.i
	if len(b)-start >= 8 {
		// A number of at most seven digits, nearly every one, from one
		// word, uintEnd's checks on the word too: its first digit (a
		// leading zero) and the byte after its last (a fraction or an
		// exponent, 'e' or 'E', which c|0x20 makes 'e' for exactly these
		// two) are bytes of the word. The rest as below.
		x := word(b, start)
		if n, t := digitRun(x); n < 8 {
			next := byte(x >> (8 * uint(n)))
			v := digitsValue(t, n)
			if n == 0 || n > 1 && byte(t) == 0 || next == '.' || next|0x20 == 'e' || v > max {
				p.bad = true
			}
			p.i = start + n
			return v
		}
	}
	i := start
	var v uint64
	// 18 digits fit in a uint64 unchecked: only a longer number, or a
	// smaller max than the callers', pays for the division.
	for end := min(len(b), start+18); i < end && b[i]-'0' <= 9; {
		v = v*10 + uint64(b[i]-'0')
		i++
	}
	if v > max {
		p.bad = true
		return 0
	}
	for i < len(b) && b[i]-'0' <= 9 {
		d := uint64(b[i] - '0')
		if v > (max-d)/10 {
			p.bad = true
			return 0
		}
		v = v*10 + d
		i++
	}
	return p.uintEnd(v, start, i, max)
}

// uintEnd ends uint's number, v read from b[start:end]: one that is not
// empty, has no leading zero and fits in max, nor is a float.
func (p *scanner) uintEnd(v uint64, start, end int, max uint64) uint64 {
	p.i = end
	if end == start || p.b[start] == '0' && end-start > 1 || v > max {
		p.bad = true
	}
	// A fraction or exponent would make it a float: not canonical.
	if end < len(p.b) && (p.b[end] == '.' || p.b[end] == 'e' || p.b[end] == 'E') {
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

func (c clock) time() time.Time { return time.Unix(c.unix(), int64(c.nsec)).UTC() }

// unix is the clock's seconds since 1970-01-01 UTC, read from its fields
// without a time.Time (the posting reader's compact form): days since
// 1970-01-01 from the civil date (years from March, so that the leap day
// ends one; eras of 400 years), as time.Date counts them for a date that
// needs no normalising, which a checked clock never does
// (TestClockUnixAgrees holds it to time.Date).
func (c clock) unix() int64 {
	return c.days()*86400 + int64(c.hour)*3600 + int64(c.minute)*60 + int64(c.sec)
}

// days is the clock's days since 1970-01-01.
func (c clock) days() int64 {
	// A year is four digits, 0 to 9999: one era on, it is never negative,
	// so the divisions are unsigned ones by constants.
	y, m := uint64(c.year)+400, uint64(c.month)
	if m <= 2 {
		y, m = y-1, m+12
	}
	m -= 3 // months from March, 0 to 11
	era, yoe := y/400, y%400
	doy := (153*m+2)/5 + uint64(c.day) - 1
	return int64(era*146097+yoe*365+yoe/4-yoe/100+doy) - 719468 - 146097
}

// dateDays is a date and its days since 1970-01-01 (clock.days), kept to
// be reused for the next clock on the same date; the zero value holds
// no date (a clock's month is never 0).
type dateDays struct {
	year, month, day int32
	days             int64
}

// unix is c.unix(), with the days of c's date from d when it holds that
// date, and d set to it when not.
func (d *dateDays) unix(c *clock) int64 {
	if c.day != d.day || c.month != d.month || c.year != d.year {
		*d = dateDays{c.year, c.month, c.day, c.days()}
	}
	return d.days*86400 + int64(c.hour)*3600 + int64(c.minute)*60 + int64(c.sec)
}

// time reads a UTC time as encoding/json writes it (RFC 3339 with 'Z' and
// up to nine fractional digits), with time.Time's own range checks: a
// string of only digits and those separators, so it needs no escape.
// Its fixed part is read as three words: the separators compared under
// a mask, the digits tested together (notDigits), and each two-digit
// number made in one step for all of a word's pairs.
func (p *scanner) time() clock {
	b, i := p.b, p.i
	if p.bad || len(b)-i < len(`"2006-01-02T15:04:05Z"`) {
		p.bad = true
		return clock{}
	}
	// The time from its opening quote, with room for nine fractional
	// digits, a tenth, 'Z' and the closing quote; zeros (none of the
	// characters looked for) past the line's end.
	var q [32]byte
	if len(b)-i >= len(q) {
		q = [32]byte(b[i : i+len(q)])
	} else {
		copy(q[:], b[i:])
	}
	w0 := binary.LittleEndian.Uint64(q[1:9])   // 2006-01-
	w1 := binary.LittleEndian.Uint64(q[9:17])  // 02T15:04
	w2 := binary.LittleEndian.Uint64(q[17:25]) // :05, then the rest
	if q[0] != '"' || w0&0xff0000ff00000000 != '-'<<56|'-'<<32 || w1&0x0000ff0000ff0000 != ':'<<40|'T'<<16 ||
		byte(w2) != ':' ||
		notDigits(w0)&0x00ffff00ffffffff|notDigits(w1)&0xffff00ffff00ffff|notDigits(w2)&0x0000000000ffff00 != 0 {
		p.bad = true
		return clock{}
	}
	// Each byte's digit times ten plus the next byte's: the pairs' values
	// (a byte holds at most 15*10+15, so nothing carries).
	pairs := func(w uint64) uint64 { w &= lsb * 0x0f; return w*10 + w>>8 }
	p0, p1, p2 := pairs(w0), pairs(w1), pairs(w2)
	c := clock{year: int32(uint8(p0))*100 + int32(uint8(p0>>16)), month: int32(uint8(p0 >> 40)),
		day: int32(uint8(p1)), hour: int32(uint8(p1 >> 24)), minute: int32(uint8(p1 >> 48)), sec: int32(uint8(p2 >> 8))}
	nsec, j, ok := timeFraction(&q)
	c.nsec = nsec
	if !ok || len(b)-i < j+2 || q[j] != 'Z' || q[j+1] != '"' ||
		c.month < 1 || c.month > 12 || c.day < 1 || int(c.day) > daysIn(int(c.month), int(c.year)) ||
		c.hour > 23 || c.minute > 59 || c.sec > 59 {
		p.bad = true
		return clock{}
	}
	p.i = i + j + 2
	return c
}

// timeFraction reads the fraction of the time in q (from its opening
// quote, as time has it) at q[20], if there is one: its nanoseconds and
// where the time goes on (20 without one); !ok where it has no digit or
// more than nine. Up to ten digits are read, to find a tenth; the line's
// end within them is left to the check of the 'Z' after them.
func timeFraction(q *[32]byte) (nsec int32, j int, ok bool) {
	if q[20] != '.' {
		return 0, 20, true
	}
	n, t := digitRun(binary.LittleEndian.Uint64(q[21:29]))
	frac := int32(digitsValue(t, n))
	if n == 8 && q[29]-'0' <= 9 {
		frac, n = frac*10+int32(q[29]-'0'), 9
		if q[30]-'0' <= 9 {
			n = 10
		}
	}
	if n == 0 || n > 9 {
		return 0, 0, false
	}
	return frac * nsecScale[n], 21 + n, true
}

// nsecScale[n] makes n fractional digits nanoseconds.
var nsecScale = [10]int32{0, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1}

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
