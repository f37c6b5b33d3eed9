package domain

import "reflect"

// Hooks for the black-box tests in package domain_test.

// DecodeEventFast is DecodeEvent without its encoding/json fallback: ok is
// false when the line is not in the canonical encoding.
func DecodeEventFast(line []byte) (ev *Event, ok bool) {
	var v lineView
	if !scanLine(line, &v, nil) {
		return nil, false
	}
	ev = new(Event)
	v.fill(ev, string(line), nil)
	return ev, true
}

// DecodeEventJSON is DecodeEvent's encoding/json path.
var DecodeEventJSON = decodeEventJSON

// AppendCanonical is AppendEvent's fast writer alone.
func AppendCanonical(dst []byte, ev *Event) ([]byte, bool) { return appendCanonical(dst, ev) }

// CommandSeq returns the highest command sequence that an applied event
// answers.
func (s *State) CommandSeq() uint64 { return s.LastCommand().Seq }

// IDsWalked returns how many hot ids the hot set's walks have visited in
// this process (eviction writes, snapshot images): the eviction tests
// count the walks of PlanEviction and Evict with it.
func IDsWalked() uint64 { return idsWalked.Load() }

// PrepareGeneral is Line.Prepare without the posting reader, as every
// line was prepared before it.
func (l *Line) PrepareGeneral(raw []byte, prev Hash) (Hash, error) {
	s := Seal(raw)
	sum := lineHash(prev, &s)
	return l.prepare(&s, &prev, &sum, false)
}

// SameView reports whether two prepared lines were read to the same view,
// the posting reader's numbers and seconds and an empty metadata's room
// aside.
func SameView(a, b *Line) bool {
	va, vb := a.view, b.view
	va.numbers, vb.numbers = postingNumbers{}, postingNumbers{}
	va.unix, vb.unix = 0, 0 // the posting reader's (PostingView's, checked on its own)
	// A reused line's metadata is its last one's room, emptied.
	if len(va.meta) == 0 && len(vb.meta) == 0 {
		va.meta, vb.meta = nil, nil
	}
	return reflect.DeepEqual(va, vb)
}

// Hex hooks: the eight-at-a-time hex of hashes.
var (
	ParseLowerHex = parseLowerHex
	HexOf         = hexOf
	// HexOfGo is hexOf without the assembly (hex_amd64.s).
	HexOfGo = func(h []byte, prev *Hash) bool {
		return len(h) == 2*HashSize && hexOfGo((*[2 * HashSize]byte)(h), prev)
	}
	// ParseLowerHexGo is parseLowerHex without the assembly (hex_amd64.s).
	ParseLowerHexGo = func(b []byte) (Hash, bool) {
		var h Hash
		if len(b) != 2*HashSize || !parseLowerHexGo((*[2 * HashSize]byte)(b), &h) {
			return Hash{}, false
		}
		return h, true
	}
)

// PrepareHashedGeneral is Line.PrepareHashed without the posting reader.
func (l *Line) PrepareHashedGeneral(raw []byte, prev Hash, sum Hash) (Hash, error) {
	s := Seal(raw)
	return l.prepare(&s, &prev, &sum, false)
}

// Word is the reader's eight-byte load (words_amd64.go, words_other.go).
var Word = word
