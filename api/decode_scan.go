package api

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/nats-ledger/ledger/domain"
)

// maxBodyDepth bounds how deeply a request body may nest objects and
// arrays, the body itself being level 1. Requests nest two levels (the body
// and its metadata); 16 leaves room to grow, while a hostile 64 KiB of '['
// is refused at its 17th byte instead of costing the recursive scanner and
// encoding/json (which allows 10,000 levels) tens of thousands of frames.
const maxBodyDepth = 16

// maxKeyShown bounds how much of a key a problem detail repeats back.
const maxKeyShown = 64

// scanBody checks a request body in one pass before encoding/json decodes
// it, and refuses with validation_failed what encoding/json would accept
// silently or guess at:
//
//   - bytes that are not valid UTF-8, and \u escapes of unpaired UTF-16
//     surrogates (encoding/json turns both into U+FFFD);
//   - a byte order mark, and anything but a JSON object at the top level
//     (encoding/json decodes null into a struct as a no-op);
//   - a key that appears twice in one object, at any depth (encoding/json
//     keeps the last); keys of an object that decodes into a struct are
//     compared as encoding/json matches them to fields, ignoring case,
//     keys of a map exactly (shape says which is which);
//   - nesting deeper than maxBodyDepth;
//   - any other JSON syntax error, and data after the object.
//
// A bare token that is not a JSON number in an amountField ("amount": +1,
// 00.5, .5, NaN) is not a syntax error but a malformed amount: the returned
// body has it quoted, so the field receives its literal text and the
// handler refuses it exactly as it refuses the same literal in quotes
// (invalid_amount for a transfer). No such literal is a plain decimal, so
// quoting never makes a body acceptable. Otherwise body is returned as is.
func scanBody(body []byte, shape *bodyShape) ([]byte, error) {
	if !utf8.Valid(body) {
		return nil, problem(domain.CodeValidationFailed,
			fmt.Sprintf("the body is not valid UTF-8 (byte %d)", invalidUTF8At(body)))
	}
	if bytes.HasPrefix(body, []byte("\uFEFF")) {
		return nil, problem(domain.CodeValidationFailed, "the body starts with a byte order mark; send JSON without one")
	}
	s := bodyScanner{data: body}
	s.ws()
	if s.pos == len(body) {
		return nil, problem(domain.CodeValidationFailed, "malformed JSON body: empty body")
	}
	if c := body[s.pos]; c != '{' {
		if kind := jsonKind(c); kind != "" {
			return nil, problem(domain.CodeValidationFailed, "the body must be a JSON object, not "+kind)
		}
		return nil, s.unexpected("looking for the body's opening '{'")
	}
	if err := s.object(1, "", shape); err != nil {
		return nil, err
	}
	s.ws()
	if s.pos != len(body) {
		return nil, problem(domain.CodeValidationFailed, "malformed JSON body: data after the object")
	}
	if len(s.bare) == 0 {
		return body, nil
	}
	out := make([]byte, 0, len(body)+2*len(s.bare))
	last := 0
	for _, sp := range s.bare {
		out = append(out, body[last:sp[0]]...)
		out = append(out, '"')
		out = append(out, body[sp[0]:sp[1]]...) // [0-9A-Za-z+-._]: nothing to escape
		out = append(out, '"')
		last = sp[1]
	}
	return append(out, body[last:]...), nil
}

// bodyScanner is a recursive-descent JSON scanner (RFC 8259) over a whole
// body; recursion is bounded by maxBodyDepth.
type bodyScanner struct {
	data []byte
	pos  int
	bare [][2]int // spans of bare malformed amount literals, in order
	// arena holds the keys seen (keySet); folded is the key being
	// folded. Both are bounded by the body's size (a folded rune takes
	// at most 4 bytes for the at least 1 it came from).
	arena  []byte
	folded []byte
}

// keySetInline is how many keys of one object keySet holds without
// allocating: every request object has fewer.
const keySetInline = 16

// keySet is the keys seen in one object: the first keySetInline as spans
// of the scanner's arena, compared one by one; past that, all of them in
// a map, so that a hostile object of thousands of keys costs a map's
// lookups, not a quadratic scan.
type keySet struct {
	n     int
	spans [keySetInline][2]int
	big   map[string]struct{}
}

// add records key (copied) and reports whether it was there already.
func (k *keySet) add(arena *[]byte, key []byte) (dup bool) {
	if k.big != nil {
		if _, dup := k.big[string(key)]; dup {
			return true
		}
		k.big[string(key)] = struct{}{}
		return false
	}
	for _, sp := range k.spans[:k.n] {
		if bytes.Equal((*arena)[sp[0]:sp[1]], key) {
			return true
		}
	}
	if k.n == keySetInline {
		k.big = make(map[string]struct{}, 2*keySetInline)
		for _, sp := range k.spans[:k.n] {
			k.big[string((*arena)[sp[0]:sp[1]])] = struct{}{}
		}
		k.big[string(key)] = struct{}{}
		return false
	}
	start := len(*arena)
	*arena = append(*arena, key...)
	k.spans[k.n] = [2]int{start, len(*arena)}
	k.n++
	return false
}

func (s *bodyScanner) ws() { s.pos = skipSpace(s.data, s.pos) }

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace (len(b) if none): the two body readers' one rule.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// peek returns the byte at pos, or 0 at the end.
func (s *bodyScanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// value scans one value at pos; depth is the level of the container
// holding it, path names it for problem details, sh is its shape.
func (s *bodyScanner) value(depth int, path string, sh *bodyShape) error {
	s.ws()
	if s.pos >= len(s.data) {
		return s.unexpected("looking for a value")
	}
	c := s.data[s.pos]
	if sh != nil && sh.amount && isAmountStart(c) {
		s.amountLiteral()
		return nil
	}
	switch {
	case c == '{':
		return s.object(depth+1, path, sh)
	case c == '[':
		return s.array(depth+1, path, sh)
	case c == '"':
		_, err := s.str(false)
		return err
	case c == 't':
		return s.word("true")
	case c == 'f':
		return s.word("false")
	case c == 'n':
		return s.word("null")
	case c == '-' || c >= '0' && c <= '9':
		end, ok := jsonNumberEnd(s.data, s.pos)
		if !ok {
			return s.unexpected("in a number")
		}
		s.pos = end
		return nil
	}
	return s.unexpected("looking for a value")
}

func (s *bodyScanner) tooDeep(depth int) error {
	if depth > maxBodyDepth {
		return problem(domain.CodeValidationFailed,
			fmt.Sprintf("the body nests objects and arrays deeper than %d levels", maxBodyDepth))
	}
	return nil
}

// object scans an object at pos, which holds '{', at the given level.
func (s *bodyScanner) object(depth int, path string, sh *bodyShape) error {
	if err := s.tooDeep(depth); err != nil {
		return err
	}
	s.pos++
	s.ws()
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	fold := sh != nil && sh.fold
	var seen keySet
	for {
		s.ws()
		if s.peek() != '"' {
			return s.unexpected("looking for a key")
		}
		key, err := s.strBytes(true)
		if err != nil {
			return err
		}
		id := key
		if fold {
			s.folded = appendFold(s.folded[:0], key)
			id = s.folded
		}
		if seen.add(&s.arena, id) {
			return &domain.FieldError{Field: joinPath(path, string(key)),
				Reason: "appears more than once in the body; the ledger does not guess which one is meant"}
		}
		s.ws()
		if s.peek() != ':' {
			return s.unexpected("after a key")
		}
		s.pos++
		var child *bodyShape
		switch {
		case fold:
			child = sh.fields[string(id)] // not allocated: a lookup
		case sh != nil:
			child = sh.elem
		}
		// Only a nested object or array names its path (in its own
		// problems); a scalar's path would be built for nothing.
		var childPath string
		if s.ws(); s.peek() == '{' || s.peek() == '[' {
			childPath = joinPath(path, string(key))
		}
		if err := s.value(depth, childPath, child); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.unexpected("after an object value")
		}
	}
}

// array scans an array at pos, which holds '[', at the given level.
func (s *bodyScanner) array(depth int, path string, sh *bodyShape) error {
	if err := s.tooDeep(depth); err != nil {
		return err
	}
	s.pos++
	s.ws()
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		var elem *bodyShape
		if sh != nil {
			elem = sh.elem
		}
		if err := s.value(depth, path+"[]", elem); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.unexpected("after an array element")
		}
	}
}

func (s *bodyScanner) word(w string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(w)) {
		return s.unexpected("in a literal")
	}
	s.pos += len(w)
	return nil
}

// unexpected is the syntax error at pos.
func (s *bodyScanner) unexpected(context string) error {
	if s.pos >= len(s.data) {
		return problem(domain.CodeValidationFailed, "malformed JSON body: unexpected end of body "+context)
	}
	r, _ := utf8.DecodeRune(s.data[s.pos:])
	return problem(domain.CodeValidationFailed,
		fmt.Sprintf("malformed JSON body: unexpected %q at offset %d %s", r, s.pos, context))
}

// jsonKind names the JSON value that starts with c, or "" if none does.
func jsonKind(c byte) string {
	switch {
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	}
	return ""
}

// joinPath names a key below path for a problem's field, shortening a
// hostile key so that the answer does not echo it whole.
func joinPath(path, key string) string {
	if len(key) > maxKeyShown {
		cut := maxKeyShown
		for cut > 0 && !utf8.RuneStart(key[cut]) {
			cut--
		}
		key = key[:cut] + "..."
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// invalidUTF8At returns the offset of the first byte of b that is not
// part of a valid UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}
