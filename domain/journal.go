package domain

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

// verifyLineHash is the first half of VerifyLine: it checks that the line
// hashes, after prev, to the hash stored in it, and returns that hash.
func verifyLineHash(line []byte, prev Hash) (Hash, error) {
	n := len(line)
	if n < hashSuffixLen+2 || !bytes.HasPrefix(line[n-hashSuffixLen:], []byte(`,"hash":"`)) || !bytes.HasSuffix(line, []byte(`"}`)) {
		return Hash{}, fmt.Errorf("%w: no hash suffix", ErrMalformedEvent)
	}
	stored, ok := parseLowerHex(line[n-hashSuffixLen+9 : n-2])
	if !ok {
		return Hash{}, fmt.Errorf("%w: hash is not lower-case hex", ErrMalformedEvent)
	}
	// The canonical bytes are the line without its hash field: the line up
	// to the suffix, then the closing brace.
	d := sha256.New()
	d.Write(prev[:])
	d.Write(line[:n-hashSuffixLen])
	d.Write([]byte{'}'})
	var h Hash
	d.Sum(h[:0])
	if h != stored {
		return stored, ErrHashMismatch
	}
	return stored, nil
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
