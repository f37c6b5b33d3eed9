package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Checking that a stored line is in the canonical encoding. The hash
// covers the bytes as stored, so a line that is not canonical (extra
// whitespace, a needless escape such as "usd\u002d05", a duplicate key,
// a time with trailing zeros) can carry a correct hash; two spellings of
// one event would then hash differently, and a reader that trusts one
// field of a duplicated key would see another event than one that trusts
// the other. The rule is the one docs/journal-spec.md states: decode the
// line, encode the event again, and the bytes must be the same.

// ErrNotCanonical means a stored line is not the canonical encoding of
// the event it decodes to.
var ErrNotCanonical = errors.New("line is not in the canonical encoding")

// maxCanonicalQuote bounds how much of a line a NotCanonical error
// quotes: a line may be megabytes long.
const maxCanonicalQuote = 24

// CheckCanonical reports whether line (a stored line with its hash
// suffix, without its '\n') is byte for byte the canonical encoding of ev,
// the event decoded from it, followed by its hash. buf is room to encode
// into, returned for reuse. ev is not changed (its Hash is cleared while
// it is encoded, so it must not be read meanwhile). The error wraps ErrNotCanonical and says
// where the bytes part and why (a duplicate key is named).
func CheckCanonical(line []byte, ev *Event, buf []byte) ([]byte, error) {
	if _, offset := ev.Time.Zone(); offset != 0 {
		return buf, fmt.Errorf("%w: the time %s is not in UTC", ErrNotCanonical, ev.Time.Format("2006-01-02T15:04:05.999999999Z07:00"))
	}
	// The encoding leaves out the hash; ev's is put back before return
	// (a copy of the event would escape to the heap on every line).
	hash := ev.Hash
	ev.Hash = ""
	buf, ok := appendCanonical(buf[:0], ev)
	if !ok {
		b, err := json.Marshal(ev)
		if err != nil {
			ev.Hash = hash
			return buf[:0], fmt.Errorf("%w: %v", ErrNotCanonical, err)
		}
		buf = append(buf[:0], b...)
	}
	ev.Hash = hash
	n := len(line) - hashSuffixLen
	if n == len(buf)-1 && n > 0 && bytes.Equal(line[:n], buf[:n]) {
		return buf, nil
	}
	if key, dup := duplicateKey(line); dup {
		return buf, fmt.Errorf("%w: the key %q appears twice in one object", ErrNotCanonical, key)
	}
	at := 0
	for at < len(buf)-1 && at < len(line) && line[at] == buf[at] {
		at++
	}
	return buf, fmt.Errorf("%w: at byte %d the line has %q where the canonical encoding has %q",
		ErrNotCanonical, at, quoteAt(line, at), quoteAt(buf[:len(buf)-1], at))
}

func quoteAt(b []byte, at int) []byte {
	if at >= len(b) {
		return nil
	}
	return b[at:min(len(b), at+maxCanonicalQuote)]
}

// duplicateKey reports the first key that appears twice in one object of
// the JSON text line, which encoding/json would read as its last value.
func duplicateKey(line []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	type object struct {
		keys  map[string]bool
		inKey bool // the next string token is a key
	}
	var stack []*object // bounded by the line's nesting depth
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return "", false
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &object{keys: map[string]bool{}, inKey: true})
				continue
			case '[':
				stack = append(stack, &object{})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.keys != nil && top.inKey {
				if top.keys[t] {
					return t, true
				}
				top.keys[t] = true
				top.inKey = false
				continue
			}
		}
		// A value ended: the next string of an enclosing object is a key.
		if len(stack) > 0 && stack[len(stack)-1].keys != nil {
			stack[len(stack)-1].inKey = true
		}
	}
}

// Canonical is CheckCanonical for a line that Prepare accepted, with ev
// its View. A line the canonical reader took (nearly all) is checked
// without encoding it again: that reader accepts only the fixed member
// order, no whitespace, strings without escapes, integers without a
// leading zero, UTC times and metadata keys in increasing order, so the
// line is canonical unless it holds what the encoding would escape ('<',
// '>', '&', U+2028, U+2029), an optional member present but empty, or a
// time fraction ending in zero; the reader notes the first as it reads
// the strings, so no second pass over the line looks for them.
// FuzzLineCanonical and TestLineCanonicalEscapes hold this to
// CheckCanonical. Any other line, and any line that fails here, is
// encoded again by CheckCanonical, which also says what is wrong.
func (l *Line) Canonical(ev *Event, buf []byte) ([]byte, error) {
	if l.canonical && l.view.plainCanonical() {
		return buf, nil
	}
	if l.raw == nil {
		return buf, fmt.Errorf("%w: the line was not prepared", ErrNotCanonical)
	}
	return CheckCanonical(l.raw, ev, buf)
}

// plainCanonical reports whether a line the canonical reader took is
// canonical (see Line.Canonical).
func (v *lineView) plainCanonical() bool {
	if v.fracZero || v.escapable {
		return false
	}
	// An optional member that is present starts past the line's first
	// byte; present and empty, it is not canonical.
	emptyPresent := func(s span) bool { return s.a != 0 && s.a == s.b }
	switch v.payload {
	case 'o':
		return !emptyPresent(v.account.limit) && !emptyPresent(v.account.owner)
	case 't', 'r':
		return !emptyPresent(v.transfer.asset) && !emptyPresent(v.transfer.reference)
	}
	return true
}
