package domain

import (
	"bytes"
	"math/bits"
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

// The literals between a posting's fields, each with the quotes of the
// strings on either side of it: the closing quote of the string before
// it and the opening quote of the one after, which the readers of those
// strings leave to it.
var (
	kType      = newLitKey(`,"type":"Transfe`)
	kType2     = newLitKey(`rPosted","v":1,"`)
	kCommand   = newLitKey(`command":{"seq":`)
	kItem      = newLitKey(`,"item":`)
	kTime      = newLitKey(`},"time":`)
	kTransfer  = newLitKey(`,"transfer"`)
	kTransfer2 = newLitKey(`:{"id":"`)
	kFrom      = newLitKey(`","from":"`)
	kTo        = newLitKey(`","to":"`)
	kAmount    = newLitKey(`","amount":"`)
	kAsset     = newLitKey(`","asset":"`)
	kReference = newLitKey(`,"reference":`)
	kMetadata  = newLitKey(`,"metadata":`)
	kEntries   = newLitKey(`,"entries":[{"ac`)
	kEntries2  = newLitKey(`count":"`)
	kDebit     = newLitKey(`,"type":"debit",`)
	kCredit    = newLitKey(`,"type":"credit"`)
	kEntryAmt  = newLitKey(`"amount":"`)
	kCreditAmt = newLitKey(`,"amount":"`)
	kBalance   = newLitKey(`,"balance":"`)
	kNext      = newLitKey(`"},{"account":"`)
	kPrevHash  = newLitKey(`"}]},"prev`)
	kPrevHash2 = newLitKey(`_hash":"`)
)

// scanPosting reads a TransferPosted line whose hash suffix verifyLineHash
// has checked and whose prev_hash is prev, as scanLine(line, v, prev)
// reads it, and reports whether it could (see above). With true, v is
// what scanLine would have set, v.chained and v.hasHash are true,
// v.plainCanonical() holds, and the event passes checkSchema's checks:
// version, sequence and time, one payload, ValidatePayload.
//
// The literals are compared a word at a time and their differences
// gathered (scanner.diff) rather than tested one by one: a line that
// differs from them anywhere is refused all the same, after reading on
// within its bounds.
func scanPosting(line []byte, v *lineView, prev *Hash) bool {
	if len(line) > 1<<31-1 {
		return false
	}
	meta := v.meta[:0]
	*v = lineView{meta: meta}
	p := scanner{b: line}
	b := line
	p.skip(len(b) >= 7 && string(b[:7]) == `{"seq":`, 7)
	v.seq = p.uint(^uint64(0))
	v.typ = span{int32(p.i + 9), int32(p.i + 9 + len(EventTransferPosted))}
	p.key(&kType)
	p.key(&kType2)
	p.key(&kCommand)
	v.version = SchemaVersion
	v.command.Seq = p.uint(^uint64(0))
	p.key(&kItem)
	v.command.Item = p.int()
	p.key(&kTime)
	timeAt := p.i
	v.clock = p.time()
	if p.bad || p.diff != 0 || v.seq == 0 || v.clock.year < 2 || // checkSchema: a sequence, a time
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
	p.key(&kTransfer)
	p.key(&kTransfer2)
	t.id = p.id()
	p.key(&kFrom)
	t.from = p.id()
	p.key(&kTo)
	t.to = p.id()
	p.key(&kAmount)
	n := &v.numbers
	t.amount, n.values[0], n.places[0] = p.literal(false)
	p.key(&kAsset)
	t.asset = p.code()
	p.skip(p.i < len(b) && b[p.i] == '"', 1)
	if p.bad || p.diff != 0 || n.values[0] == 0 || // a memo's, or refused
		bytes.Equal(p.b[t.from.a:t.from.b], p.b[t.to.a:t.to.b]) ||
		validateAssetCode("asset", p.text(t.asset)) != nil {
		return false
	}
	if p.at(&kReference) {
		t.reference = p.str()
		if p.bad || t.reference.a == t.reference.b ||
			validateText("reference", p.text(t.reference), MaxReferenceLen) != nil {
			return false
		}
	}
	if p.at(&kMetadata) {
		t.meta = p.meta(v)
		if p.bad || !p.metadataValid(v.meta[t.meta.from:t.meta.to]) {
			return false
		}
	}
	p.key(&kEntries)
	p.key(&kEntries2)
	v.entries[0][0] = p.same(t.from)
	p.key(&kDebit)
	p.key(&kEntryAmt)
	v.entries[0][2] = p.same(t.amount)
	p.key(&kBalance)
	v.entries[0][3], n.values[1], n.places[1] = p.literal(true)
	p.key(&kNext)
	v.entries[1][0] = p.same(t.to)
	p.key(&kCredit)
	p.key(&kCreditAmt)
	v.entries[1][2] = p.same(t.amount)
	p.key(&kBalance)
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
	p.key(&kPrevHash)
	p.key(&kPrevHash2)
	if p.bad || p.diff != 0 || len(line)-p.i != 2*HashSize+1+hashSuffixLen || line[p.i+2*HashSize] != '"' ||
		!hexOf(line[p.i:p.i+2*HashSize], prev) {
		return false
	}
	v.prevHash, v.chained = span{int32(p.i), int32(p.i + 2*HashSize)}, true
	p.i += 2*HashSize + 1
	return true
}

// key consumes the literal k at p.i, adding how it differs from the line's bytes to p.diff,
// which the reader tests at its checkpoints. A line too short for a word
// compare is bad (a posting's line goes on well past every literal: its
// prev_hash and hash).
func (p *scanner) key(k *litKey) {
	if len(p.b)-p.i < maxKey {
		p.bad = true
		return
	}
	p.diff |= k.diff(p.b, p.i)
	p.i += k.n
}

// at reports whether the literal k is at p.i, and consumes it if so: an
// optional field's name.
func (p *scanner) at(k *litKey) bool {
	if len(p.b)-p.i < maxKey || k.diff(p.b, p.i) != 0 {
		return false
	}
	p.i += k.n
	return true
}

// skip consumes the n bytes of a literal that the caller found at p.i
// (ok), or marks the line bad.
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

// id reads the characters of a string of 1 to MaxIDLen id characters
// (validateIDChars' rule), which needs no escape.
func (p *scanner) id() span {
	s := p.chars(&idChars)
	if n := s.b - s.a; n == 0 || n > MaxIDLen {
		p.bad = true
		return span{}
	}
	return s
}

// code reads the characters of a string of asset code characters
// (codeChars), which needs no escape; the caller checks it is a code
// (validateAssetCode).
func (p *scanner) code() span { return p.chars(&codeChars) }

// chars reads from p.i the bytes that t marks, none of which needs an
// escape, up to the first that it does not: the string's closing quote,
// which the literal after the string begins with. Eight bytes a step:
// their marks gathered in a byte, whose lowest clear bit is the first
// byte not marked.
func (p *scanner) chars(t *[256]bool) span {
	b, i := p.b, p.i
	u := (*[256]uint8)(unsafe.Pointer(t)) // a bool is a byte, 0 or 1
	for len(b)-i >= 8 {
		x := (*[8]byte)(b[i : i+8])
		m := u[x[0]] | u[x[1]]<<1 | u[x[2]]<<2 | u[x[3]]<<3 | u[x[4]]<<4 | u[x[5]]<<5 | u[x[6]]<<6 | u[x[7]]<<7
		if m != 0xff {
			i += bits.TrailingZeros8(^m)
			s := span{int32(p.i), int32(i)}
			p.i = i
			return s
		}
		i += 8
	}
	for i < len(b) && t[b[i]] { // the line's last bytes
		i++
	}
	s := span{int32(p.i), int32(i)}
	p.i = i
	return s
}

// codeChars marks the bytes an asset code may hold after its first, as
// validateAssetCode says.
var codeChars = func() (t [256]bool) {
	for c := range t {
		t[c] = validateAssetCode("", "A"+string(rune(c))) == nil && c < 0x80
	}
	return t
}()

// same reads the characters and the closing quote of a string whose
// bytes are those of s, an earlier string of the line: a word at a time
// (the last one ending where the string does), a string shorter than a
// word under a mask; the differences added to p.diff.
func (p *scanner) same(s span) span {
	b, i, a, n := p.b, p.i, int(s.a), int(s.b-s.a)+1
	if len(b)-i < n+8 { // a word's load from the string's end
		p.bad = true
		return span{}
	}
	var d uint64
	if n < 8 {
		d = (word(b, i) ^ word(b, a)) & (1<<(8*(n&7)) - 1)
	} else {
		for k := 0; k < n-8; k += 8 {
			d |= word(b, i+k) ^ word(b, a+k)
		}
		d |= word(b, i+n-8) ^ word(b, a+n-8)
	}
	p.diff |= d
	p.i = i + n
	return span{int32(i), int32(i + n - 1)}
}

// literal reads the characters of an amount literal that ParseLiteral
// takes (signed: a balance), and its value and places; the closing quote
// is the next literal's.
func (p *scanner) literal(signed bool) (span, int64, int8) {
	b, start := p.b, p.i
	if start >= len(b) {
		p.bad = true
		return span{}, 0, 0
	}
	v, places, n, ok := literalPrefix(unsafe.String(&b[start], len(b)-start), signed)
	if !ok {
		p.bad = true
		return span{}, 0, 0
	}
	p.i = start + n
	return span{int32(start), int32(start + n)}, v, int8(places)
}
