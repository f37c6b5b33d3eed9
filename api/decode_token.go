package api

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/nats-ledger/ledger/domain"
)

// The tokens of a request body for scanBody (decode_scan.go): strings and
// their escapes, numbers, and the bare amount-like literals it quotes.

// str scans a string at pos, which holds '"', and returns its decoded
// value when decode is set (keys are compared decoded: "\u0061" is "a").
func (s *bodyScanner) str(decode bool) (string, error) {
	b, err := s.strBytes(decode)
	return string(b), err
}

// strBytes is str's value as bytes: a slice of the body itself when the
// string has no escape (nothing allocated), nil when decode is false.
func (s *bodyScanner) strBytes(decode bool) ([]byte, error) {
	s.pos++
	var buf []byte // the decoded value so far, once an escape is seen
	from := s.pos  // start of the bytes not yet copied into buf
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			raw := s.data[from:s.pos]
			s.pos++
			if !decode {
				return nil, nil
			}
			if buf == nil {
				return raw, nil
			}
			return append(buf, raw...), nil
		case c == '\\':
			if decode {
				buf = append(buf, s.data[from:s.pos]...)
			}
			r, err := s.escape()
			if err != nil {
				return nil, err
			}
			if decode {
				buf = utf8.AppendRune(buf, r)
			}
			from = s.pos
		case c < 0x20:
			return nil, problem(domain.CodeValidationFailed,
				fmt.Sprintf("malformed JSON body: control character %#02x in a string at offset %d; escape it", c, s.pos))
		default:
			s.pos++
		}
	}
	return nil, s.unexpected("in a string")
}

// escape decodes the escape sequence at pos, which holds '\\'.
func (s *bodyScanner) escape() (rune, error) {
	at := s.pos
	s.pos++
	switch s.peek() {
	case '"', '\\', '/':
		s.pos++
		return rune(s.data[s.pos-1]), nil
	case 'b':
		s.pos++
		return '\b', nil
	case 'f':
		s.pos++
		return '\f', nil
	case 'n':
		s.pos++
		return '\n', nil
	case 'r':
		s.pos++
		return '\r', nil
	case 't':
		s.pos++
		return '\t', nil
	case 'u':
		r, ok := hex4(s.data, s.pos+1)
		if !ok {
			return 0, s.unexpected("in a \\u escape")
		}
		s.pos += 5
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		if r < 0xdc00 && bytes.HasPrefix(s.data[s.pos:], []byte(`\u`)) {
			if r2, ok := hex4(s.data, s.pos+2); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
				s.pos += 6
				return utf16.DecodeRune(r, r2), nil
			}
		}
		return 0, problem(domain.CodeValidationFailed,
			fmt.Sprintf("the body is not valid UTF-8: the escape at offset %d is half of a UTF-16 surrogate pair", at))
	}
	return 0, s.unexpected("in an escape")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// jsonNumberEnd returns the end of the JSON number starting at b[i] and
// whether one starts there: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumberEnd(b []byte, i int) (int, bool) {
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

// isAmountStart reports whether c starts a bare amount-like token: a
// number, signed or not, or a word such as NaN or Infinity; not an
// object, array, string, true, false or null.
func isAmountStart(c byte) bool {
	switch c {
	case 't', 'f', 'n':
		return false
	}
	return isAmountByte(c)
}

func isAmountByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
		c == '+' || c == '-' || c == '.' || c == '_'
}

// amountLiteral scans a bare amount-like token at pos and, unless it is a
// JSON number, records it to be quoted.
func (s *bodyScanner) amountLiteral() {
	start := s.pos
	for s.pos < len(s.data) && isAmountByte(s.data[s.pos]) {
		s.pos++
	}
	if end, ok := jsonNumberEnd(s.data, start); !ok || end != s.pos {
		s.bare = append(s.bare, [2]int{start, s.pos})
	}
}
