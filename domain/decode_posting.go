package domain

import (
	"bytes"
	"unsafe"
)

// The posting reader: one pass over a TransferPosted line in the
// canonical encoding, nearly every line of a journal, that reads it as
// scanLine does and checks on the way what the audit checks after
// reading a line (the canonical form and the event's schema), so that
// neither is done again. It takes only the common shape (an asset, an
// amount of at most 18 digits that is not zero, balances ParseLiteral
// reads, no memo, a time fraction without a trailing zero) and gives up
// on anything else, which scanLine and the general checks then read as
// before: it never accepts a line they refuse, and what it reads is what
// scanLine reads (FuzzPostingReader, TestPostingReaderAgrees).
//
// Each field's rule is the domain's own, applied to the field where it
// lies in the line (validateText, validateAssetCode, ParseLiteral,
// validateIDChars' table and bound): nothing here restates a rule but
// payloadRules.TransferPosted's, that the entries repeat the transfer's
// accounts and amount, which the reader checks byte for byte.

// postingNumbers are a posting's amount and its entries' balances after,
// as the posting reader parsed them (ParseLiteral).
type postingNumbers struct {
	ok     bool
	values [3]int64 // amount, debit balance, credit balance
	places [3]int8
}

// scanPosting reads a TransferPosted line whose hash suffix verifyLineHash
// has checked and whose prev_hash is prev, as scanLine(line, v, prev)
// reads it, and reports whether it could (see above). With true, v is
// what scanLine would have set, v.chained and v.hasHash are true,
// v.plainCanonical() holds, and the event passes checkSchema's checks:
// version, sequence and time, one payload, ValidatePayload.
func scanPosting(line []byte, v *lineView, prev *Hash) bool {
	if len(line) > 1<<31-1 {
		return false
	}
	meta := v.meta[:0]
	*v = lineView{meta: meta}
	p := scanner{b: line}
	b := line
	p.skip(len(b)-p.i >= 7 && string(b[p.i:p.i+7]) == `{"seq":`, 7)
	v.seq = p.uint(^uint64(0))
	v.typ = span{int32(p.i + 9), int32(p.i + 9 + len(EventTransferPosted))}
	p.skip(len(b)-p.i >= 48 && string(b[p.i:p.i+16]) == `,"type":"Transfe` &&
		string(b[p.i+16:p.i+32]) == `rPosted","v":1,"` && string(b[p.i+32:p.i+48]) == `command":{"seq":`, 48)
	v.version = SchemaVersion
	v.command.Seq = p.uint(^uint64(0))
	p.skip(len(b)-p.i >= 8 && string(b[p.i:p.i+8]) == `,"item":`, 8)
	v.command.Item = p.int()
	p.skip(len(b)-p.i >= 9 && string(b[p.i:p.i+9]) == `},"time":`, 9)
	timeAt := p.i
	v.clock = p.time()
	if p.bad || v.seq == 0 || v.clock.year < 2 || // checkSchema: a sequence, a time
		p.i-timeAt > 22 && line[p.i-3] == '0' { // not canonical
		return false
	}
	v.payload = 't'
	if !p.posting(v) || !p.prevHash(v, prev) {
		return false
	}
	v.hash, v.hasHash = span{int32(p.i + 9), int32(len(line) - 2)}, true
	return true
}

// posting reads and checks the transfer's fields and its entries, and
// closes the transfer.
func (p *scanner) posting(v *lineView) bool {
	b, t := p.b, &v.transfer
	p.skip(len(b)-p.i >= 18 && string(b[p.i:p.i+16]) == `,"transfer":{"id` &&
		string(b[p.i+16:p.i+18]) == `":`, 18)
	t.id = p.id()
	p.skip(len(b)-p.i >= 8 && string(b[p.i:p.i+8]) == `,"from":`, 8)
	t.from = p.id()
	p.skip(len(b)-p.i >= 6 && string(b[p.i:p.i+6]) == `,"to":`, 6)
	t.to = p.id()
	p.skip(len(b)-p.i >= 10 && string(b[p.i:p.i+10]) == `,"amount":`, 10)
	n := &v.numbers
	t.amount, n.values[0], n.places[0] = p.literal(false)
	p.skip(len(b)-p.i >= 9 && string(b[p.i:p.i+9]) == `,"asset":`, 9)
	t.asset = p.code()
	if p.bad || n.values[0] == 0 || // a memo's, or refused
		bytes.Equal(p.b[t.from.a:t.from.b], p.b[t.to.a:t.to.b]) ||
		validateAssetCode("asset", p.text(t.asset)) != nil {
		return false
	}
	if len(b)-p.i >= 13 && string(b[p.i:p.i+13]) == `,"reference":` {
		p.i += 13
		t.reference = p.str()
		if p.bad || t.reference.a == t.reference.b ||
			validateText("reference", p.text(t.reference), MaxReferenceLen) != nil {
			return false
		}
	}
	if len(b)-p.i >= 12 && string(b[p.i:p.i+12]) == `,"metadata":` {
		p.i += 12
		t.meta = p.meta(v)
		if p.bad || !p.metadataValid(v.meta[t.meta.from:t.meta.to]) {
			return false
		}
	}
	p.skip(len(b)-p.i >= 23 && string(b[p.i:p.i+16]) == `,"entries":[{"ac` &&
		string(b[p.i+16:p.i+23]) == `count":`, 23)
	v.entries[0][0] = p.same(t.from)
	p.skip(len(b)-p.i >= 25 && string(b[p.i:p.i+16]) == `,"type":"debit",` &&
		string(b[p.i+16:p.i+25]) == `"amount":`, 25)
	v.entries[0][2] = p.same(t.amount)
	p.skip(len(b)-p.i >= 11 && string(b[p.i:p.i+11]) == `,"balance":`, 11)
	v.entries[0][3], n.values[1], n.places[1] = p.literal(true)
	p.skip(len(b)-p.i >= 13 && string(b[p.i:p.i+13]) == `},{"account":`, 13)
	v.entries[1][0] = p.same(t.to)
	p.skip(len(b)-p.i >= 26 && string(b[p.i:p.i+16]) == `,"type":"credit"` &&
		string(b[p.i+16:p.i+26]) == `,"amount":`, 26)
	v.entries[1][2] = p.same(t.amount)
	p.skip(len(b)-p.i >= 11 && string(b[p.i:p.i+11]) == `,"balance":`, 11)
	v.entries[1][3], n.values[2], n.places[2] = p.literal(true)
	if p.bad || p.escapable {
		return false
	}
	// The entries' types are in the literals: where they lie in the line.
	v.entries[0][1] = span{v.entries[0][0].b + 10, v.entries[0][0].b + 15}
	v.entries[1][1] = span{v.entries[1][0].b + 10, v.entries[1][0].b + 16}
	n.ok = true
	return true
}

// prevHash reads the line's prev_hash, which must be prev in lower-case
// hex, up to the hash suffix that verifyLineHash checked.
func (p *scanner) prevHash(v *lineView, prev *Hash) bool {
	line := p.b
	p.skip(len(line)-p.i >= 16 && string(line[p.i:p.i+16]) == `}]},"prev_hash":`, 16)
	if p.bad || len(line)-p.i != 2+2*HashSize+hashSuffixLen || line[p.i] != '"' || line[p.i+1+2*HashSize] != '"' ||
		!hexOf(line[p.i+1:p.i+1+2*HashSize], prev) {
		return false
	}
	v.prevHash, v.chained = span{int32(p.i + 1), int32(p.i + 1 + 2*HashSize)}, true
	p.i += 2 + 2*HashSize
	return true
}

// skip consumes the n bytes of a literal that the caller found at p.i
// (ok), or marks the line bad. The posting reader compares its literals
// in place, as constants of at most 16 bytes, which the compiler
// compares a word at a time, where lit costs a call to memequal each.
func (p *scanner) skip(ok bool, n int) {
	if p.bad || !ok {
		p.bad = true
		return
	}
	p.i += n
}

// metadataValid is ValidateMetadata for the key, value pairs kv, as the
// reader found them (keys in increasing order, so none repeated).
func (p *scanner) metadataValid(kv []span) bool {
	if len(kv)/2 > maxMetadataKeys {
		return false
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := p.text(kv[i])
		if k == "" || validateText("metadata key", k, maxMetadataKeyLen) != nil ||
			validateText("metadata value", p.text(kv[i+1]), maxMetadataValueLen) != nil {
			return false
		}
	}
	return true
}

// text is the string s of the line, without a copy: it lives while the
// line's bytes do not change, which the readers' callers guarantee.
func (p *scanner) text(s span) string {
	return unsafe.String(unsafe.SliceData(p.b[s.a:]), int(s.b-s.a))
}

// id reads a string of 1 to MaxIDLen id characters (validateIDChars'
// rule), which needs no escape.
func (p *scanner) id() span {
	s := p.plain(&idChars)
	if n := s.b - s.a; !p.bad && (n == 0 || n > MaxIDLen) {
		p.bad = true
		return span{}
	}
	return s
}

// code reads a string of asset code characters (codeChars), which
// needs no escape; the caller checks it is a code (validateAssetCode).
func (p *scanner) code() span { return p.plain(&codeChars) }

// plain reads a string of only the bytes chars marks, none of which
// needs an escape, up to its closing quote.
func (p *scanner) plain(chars *[256]bool) span {
	b := p.b
	if p.bad || p.i >= len(b) || b[p.i] != '"' {
		p.bad = true
		return span{}
	}
	start := p.i + 1
	j := start
	for j < len(b) && chars[b[j]] {
		j++
	}
	if j >= len(b) || b[j] != '"' {
		p.bad = true
		return span{}
	}
	p.i = j + 1
	return span{int32(start), int32(j)}
}

// codeChars marks the bytes an asset code may hold after its first, as
// validateAssetCode says.
var codeChars = func() (t [256]bool) {
	for c := range t {
		t[c] = validateAssetCode("", "A"+string(rune(c))) == nil && c < 0x80
	}
	return t
}()

// same reads a string whose bytes are those of s, an earlier string of
// the line.
func (p *scanner) same(s span) span {
	b, n := p.b, int(s.b-s.a)
	if p.bad || len(b)-p.i < n+2 || b[p.i] != '"' || b[p.i+1+n] != '"' ||
		string(b[p.i+1:p.i+1+n]) != string(b[s.a:s.b]) {
		p.bad = true
		return span{}
	}
	p.i += n + 2
	return span{int32(p.i - 1 - n), int32(p.i - 1)}
}

// literal reads an amount literal that ParseLiteral takes (signed: a
// balance), and its value and places.
func (p *scanner) literal(signed bool) (span, int64, int8) {
	b := p.b
	if p.bad || len(b)-p.i < 2 || b[p.i] != '"' {
		p.bad = true
		return span{}, 0, 0
	}
	start := p.i + 1
	v, places, n, ok := literalPrefix(unsafe.String(&b[start], len(b)-start), signed)
	end := start + n
	if !ok || end >= len(b) || b[end] != '"' {
		p.bad = true
		return span{}, 0, 0
	}
	p.i = end + 1
	return span{int32(start), int32(end)}, v, int8(places)
}
