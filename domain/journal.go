package domain

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"
)

// The journal's canonical encoding and hash chain.
//
// Each event is stored as one line of JSON: the Event struct encoded by
// encoding/json (fields in the struct's declaration order, map keys sorted,
// no insignificant whitespace), without the "hash" field, is the event's
// canonical encoding C. Its hash is
//
//	hash = SHA-256( prev_hash (32 raw bytes) || C )
//
// where prev_hash is the previous event's hash (32 zero bytes before the
// first event) and is also inside C as the hex field "prev_hash". The stored
// line is C with `,"hash":"<64 hex digits>"` inserted before its final '}'.
// A verifier therefore needs no JSON encoder: it cuts the fixed-length hash
// suffix off the stored line, puts the '}' back, and hashes those bytes.
//
// A journal record (one JetStream message) holds one or more consecutive
// events, each line terminated by '\n'.

// HashSize is the length of an event hash in bytes.
const HashSize = sha256.Size

// Hash is an event's SHA-256 chain hash.
type Hash [HashSize]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// hashSuffixLen is len(`,"hash":"` + 64 hex digits + `"}`).
const hashSuffixLen = 9 + 2*HashSize + 2

// Errors of journal decoding and verification.
var (
	ErrMalformedEvent = errors.New("malformed journal event")
	ErrHashMismatch   = errors.New("event hash does not match its content")
	ErrChainBroken    = errors.New("event does not chain to the previous hash")
)

// AppendEvent sets ev.PrevHash to prev, encodes ev canonically with its
// hash, appends the line and a '\n' to dst, and returns the event's hash.
func AppendEvent(dst []byte, ev *Event, prev Hash) ([]byte, Hash, error) {
	ev.PrevHash = prev.String()
	ev.Hash = ""
	start := len(dst)
	dst, ok := appendCanonical(dst, ev)
	if !ok {
		canonical, err := json.Marshal(ev)
		if err != nil {
			return dst[:start], Hash{}, fmt.Errorf("encode event %d: %w", ev.Seq, err)
		}
		dst = append(dst[:start], canonical...)
	}
	h := chainHash(prev, dst[start:])
	ev.Hash = h.String()
	dst = append(dst[:len(dst)-1], `,"hash":"`...)
	dst = hex.AppendEncode(dst, h[:])
	dst = append(dst, "\"}\n"...)
	return dst, h, nil
}

func chainHash(prev Hash, canonical []byte) Hash {
	d := sha256.New()
	d.Write(prev[:])
	d.Write(canonical)
	var h Hash
	d.Sum(h[:0])
	return h
}

// VerifyLine checks one stored event line (without its '\n') against the
// previous event's hash and returns the line's own hash. It checks the
// bytes as stored, so any change to any byte of any event is detected.
func VerifyLine(line []byte, prev Hash) (Hash, error) {
	var l Line
	return l.Prepare(line, prev)
}

// HashInput returns the bytes that line's chain hash covers when it
// follows an event whose hash is *prev, as three pieces to hash in
// order: prev's 32 raw bytes (a view of *prev), the line up to its hash
// suffix, and the closing brace that the suffix cut off (both views of
// line, which ends with that brace). This is where the hash input of a
// stored line is defined: a verifier that hashes lines itself (several at
// a time) hashes these and hands the digests to Line.PrepareHashed. ok is
// false when the line has no hash suffix: then the hash covers nothing
// and the line is malformed, whatever digest comes with it.
func HashInput(prev *Hash, line []byte) (head, body, tail []byte, ok bool) {
	s := Seal(line)
	return s.HashInput(prev)
}

// lineHash is the SHA-256 of the line's HashInput after prev; zero for a
// line without a hash suffix.
func lineHash(prev Hash, s *Sealed) Hash {
	var h Hash
	head, body, tail, ok := s.HashInput(&prev)
	if !ok {
		return h
	}
	d := sha256.New()
	d.Write(head)
	d.Write(body)
	d.Write(tail)
	d.Sum(h[:0])
	return h
}

// Sealed is a stored line with its hash suffix found once, for a
// verifier that reads the suffix several times: to hash the line
// (HashInput), to take the next line's previous hash (Stored), to check
// the digest against it (Line.PrepareSealed). Each of the functions of
// the same names finds the suffix anew, and decodes the stored hex anew.
// A Sealed is a view of its line, valid while the line's bytes do not
// change; the zero Sealed is a line without a hash suffix.
type Sealed struct {
	line   []byte
	hash   Hash // the stored hash, once read, when lower-case hex
	suffix bool // the line ends with a hash suffix
	read   bool // Stored has read the hash into hash
	lower  bool // read, and spelt in lower-case hex
}

// Seal finds line's hash suffix.
func Seal(line []byte) Sealed { return Sealed{line: line, suffix: hasSuffix(line)} }

// Set makes s Seal(line), in place, field by field: for a verifier that
// seals line after line into the same Sealed. A Sealed built and copied
// (s = Seal(line)) was read back in 16-byte loads of the narrower stores
// that had just built it, a store-forwarding stall on every line. The
// stored hash of an earlier line is left in s.hash but never read: it is
// read only once read and lower say it is this line's (Stored).
func (s *Sealed) Set(line []byte) {
	s.line, s.suffix = line, hasSuffix(line)
	s.read, s.lower = false, false
}

// hasSuffix reports whether line ends with a hash suffix's frame:
// `,"hash":"`, 64 bytes, `"}`.
func hasSuffix(line []byte) bool {
	n := len(line)
	return n >= hashSuffixLen+2 &&
		string(line[n-hashSuffixLen:n-hashSuffixLen+9]) == `,"hash":"` && string(line[n-2:]) == `"}`
}

// HashInput is HashInput(prev, line) for the sealed line.
func (s *Sealed) HashInput(prev *Hash) (head, body, tail []byte, ok bool) {
	if !s.suffix {
		return nil, nil, nil, false
	}
	n := len(s.line)
	return prev[:], s.line[:n-hashSuffixLen], s.line[n-1:], true
}

// Stored is StoredHash of the sealed line, decoded the first time and
// kept: Line.PrepareSealed then compares digests, not hex.
func (s *Sealed) Stored() (Hash, bool) {
	if !s.read && s.suffix {
		// parseLowerHex, decoding in place.
		s.read = true
		if s.lower = unhexLower(s.hex(), &s.hash); !s.lower {
			s.hash = Hash{}
		}
	}
	if !s.lower {
		// No suffix, or not lower-case hex (s.hash may be an earlier
		// line's, see Set).
		return Hash{}, false
	}
	return s.hash, true
}

// hex is the stored hash's 64 digits; the line has a suffix (so at
// least hashSuffixLen bytes), whose digits are read in place without a
// bounds check.
func (s *Sealed) hex() *[2 * HashSize]byte {
	return (*[2 * HashSize]byte)(unsafe.Pointer(byteAt(s.line, len(s.line)-hashSuffixLen+9)))
}

// StoredHash returns the hash stored in a line's suffix, if the line has
// one spelt as the journal writes it (lower-case hex): the hash that
// Prepare returns for the line, whatever else is wrong with it, and so the
// previous hash of the line after it. A verifier that hashes a line
// together with the next one takes the next one's previous hash from here.
func StoredHash(line []byte) (Hash, bool) {
	s := Seal(line)
	return s.Stored()
}

// check is the first half of VerifyLine: it checks that sum, the hash of
// the line's hash input (HashInput), is the hash stored in the line, and
// returns that stored hash: by comparing digests where Stored has read
// it, else sum's hex with the stored digits, decoding them only when they
// differ.
func (s *Sealed) check(sum *Hash) (Hash, error) {
	switch {
	case !s.suffix:
		return Hash{}, fmt.Errorf("%w: no hash suffix", ErrMalformedEvent)
	case !s.read && hexEqual(s.hex(), sum), s.read && s.lower && s.hash == *sum:
		// The line stores sum, spelt as AppendEvent spells it.
		return *sum, nil
	}
	stored, ok := s.Stored()
	if !ok {
		return Hash{}, fmt.Errorf("%w: hash is not lower-case hex", ErrMalformedEvent)
	}
	return stored, ErrHashMismatch
}

// matches reports whether check would find the line storing sum: its
// success, without check's results.
func (s *Sealed) matches(sum *Hash) bool {
	return s.suffix && (!s.read && hexEqual(s.hex(), sum) || s.read && s.lower && s.hash == *sum)
}

// prevHashJSON checks the prev_hash of a line that is not in the
// canonical form, reading it as any JSON reader would.
func prevHashJSON(line []byte, prev Hash) error {
	var chained struct {
		PrevHash string `json:"prev_hash"`
	}
	if err := json.Unmarshal(line, &chained); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	if chained.PrevHash != prev.String() {
		return ErrChainBroken
	}
	return nil
}

// DecodeEvent parses one stored event line.
func DecodeEvent(line []byte) (*Event, error) {
	var v lineView
	if scanLine(line, &v, nil) {
		var ev Event
		v.fill(&ev, string(line), nil)
		return &ev, nil
	}
	return decodeEventJSON(line)
}

// decodeEventJSON is DecodeEvent for any line: encoding/json, refusing
// unknown fields.
func decodeEventJSON(line []byte) (*Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	return &ev, nil
}

// ParseHash reads a hex hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("%w: hash length %d", ErrMalformedEvent, len(s))
	}
	_, err := hex.Decode(h[:], []byte(s))
	if err != nil {
		return h, fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	return h, nil
}

// SplitRecord returns the event lines of a journal record, without their
// '\n' terminators. The returned slices alias data.
func SplitRecord(data []byte) ([][]byte, error) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("%w: record does not end with a newline", ErrMalformedEvent)
	}
	lines := bytes.Split(data[:len(data)-1], []byte{'\n'})
	for _, l := range lines {
		if len(l) == 0 {
			return nil, fmt.Errorf("%w: empty line in record", ErrMalformedEvent)
		}
	}
	return lines, nil
}
