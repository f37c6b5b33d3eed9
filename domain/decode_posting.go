package domain

import (
	"bytes"
	"encoding/binary"
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

// scanPosting reads a TransferPosted line whose hash suffix verifyLineHash
// has checked and whose prev_hash is prev, as scanLine(line, v, prev)
// reads it, and reports whether it could (see above). With true, v is
// what scanLine would have set, v.chained and v.hasHash are true,
// v.plainCanonical() holds, and the event passes checkSchema's checks:
// version, sequence and time, one payload, ValidatePayload.
//
// The literals between the fields are compared a word at a time (lit)
// and their differences gathered in d rather than tested one by one: a
// line that differs from them anywhere is refused all the same, after
// reading on within its bounds. Each literal holds the quotes of the
// strings on either side of it (the closing quote of the string before
// it, the opening quote of the one after), which the readers of those
// strings leave to it.
//
// m is what the reader kept of the lines it read before (decode_memo.go):
// the sequences, the time's fixed part, the asset and the reference that
// repeat those lines' are read by comparing their bytes.
func scanPosting(line []byte, v *lineView, prev *Hash, m *postingMemo) bool {
	if len(line) > 1<<31-1 {
		return false
	}
	v.reset()
	p := scanner{b: line}
	b := line
	d, i := lit(b, 0, `{"seq":0`) // the '0' not compared: see below
	d &= 1<<56 - 1
	p.i = i - 1
	v.seq = p.uintMemo(&m.seq, ',', ^uint64(0))
	m.seq.inc()                // the next line's
	if len(b)-p.i < 3*maxLit { // the next three literals' room
		return false
	}
	v.typ = span{int32(p.i + 9), int32(p.i + 9 + len(EventTransferPosted))}
	x, i := litIn(b, p.i, `,"type":"Transfe`)
	d |= x
	x, i = litIn(b, i, `rPosted","v":1,"`)
	d |= x
	x, p.i = litIn(b, i, `command":{"seq":`)
	d |= x
	v.version = SchemaVersion
	// The command's sequence is the last line's or the next.
	if m.cmd.match(b, p.i) {
		v.command.Seq, p.i = m.cmd.v, p.i+m.cmd.n
	} else {
		m.cmd.inc()
		v.command.Seq = p.uintMemo(&m.cmd, ',', ^uint64(0))
	}
	x, p.i = lit(b, p.i, `,"item":`)
	d |= x
	// The item is the last line's plus one, or 0.
	if p.i < len(b)-1 && b[p.i] == '0' && b[p.i+1] == '}' {
		v.command.Item, p.i = 0, p.i+1
		m.item = itemOne
	} else {
		v.command.Item = int(p.uintMemo(&m.item, '}', uint64(maxInt)))
		m.item.inc()
	}
	x, p.i = lit(b, p.i, `},"time":`)
	d |= x
	timeAt := p.i
	p.postingTime(v, &m.time)
	if p.bad || d != 0 || v.seq == 0 || v.clock.year < 2 || // checkSchema: a sequence, a time
		p.i-timeAt > 22 && line[p.i-3] == '0' { // not canonical
		return false
	}
	v.payload = 't'
	if !p.postedTransfer(v, m) || !p.postedEntries(v) || !p.prevHash(v, prev) {
		return false
	}
	v.hash, v.hasHash = span{int32(p.i + 9), int32(len(line) - 2)}, true
	return true
}

// reset clears v for the posting reader: wholly (as scanLine does)
// unless v holds a posting that the reader read (numbers.ok), whose
// fields the reader sets again on every line it takes but for those it
// sets only where a line has them (a reference, metadata), cleared here;
// every other field of such a view is zero already. The view is some
// 300 bytes, and clearing it was some 60 instructions a line. numbers.ok
// is set again only when the reader has read the entries, and scanLine,
// the only other writer of a view, clears it, so it is true only of a
// view that the reader wrote since the view's last clearing.
func (v *lineView) reset() {
	if !v.numbers.ok {
		meta := v.meta[:0]
		*v = lineView{meta: meta}
		return
	}
	v.numbers.ok = false
	v.transfer.reference, v.transfer.meta = span{}, metaRange{}
	v.meta = v.meta[:0]
}

// postedTransfer reads and checks the transfer's fields up to its entries.
func (p *scanner) postedTransfer(v *lineView, m *postingMemo) bool {
	b, t, n := p.b, &v.transfer, &v.numbers
	if len(b)-p.i < len(`,"transfer":`)+maxLit { // the next two literals' room
		return false
	}
	d, i := litIn(b, p.i, `,"transfer":`)
	x, i := litIn(b, i, `{"id":"`+`"`) // the last quote not compared
	d |= x & (1<<56 - 1)
	x, i = idsAt(b, i-1, t)
	d |= x
	x, i = lit(b, i, `","amount":"`)
	d |= x
	k, places := -1, 0
	if useAVX2 && len(b)-i >= 17 { // literalAt's common case without its call
		n.values[0], places, k = literal16(byteAt(b, i), false)
	}
	if k > 0 {
		t.amount, n.places[0], i = span{int32(i), int32(i + k)}, int8(places), i+k
	} else {
		t.amount, n.values[0], n.places[0], i = literalAt(b, i, false)
	}
	x, i = lit(b, i, `","asset":"`)
	d |= x
	if d != 0 || t.id.a == t.id.b || t.from.a == t.from.b || t.to.a == t.to.b || t.amount.a == t.amount.b ||
		n.values[0] == 0 || // a memo's, or refused
		sameAccounts(b, t.from, t.to) || !p.assetRef(t, i, m) {
		return false
	}
	if p.at(`,"metadata":`) {
		t.meta = p.meta(v)
		if p.bad || !p.metadataValid(v.meta[t.meta.from:t.meta.to]) {
			return false
		}
	}
	return !p.escapable
}

// sameAccounts reports whether the strings from and to of b are equal,
// to after from and b holding 16 bytes from to's start (the literal
// after the amount, which follows to, was read): of up to 15 bytes (and
// so with their closing quotes, 16), by sameWords, else bytes.Equal.
func sameAccounts(b []byte, from, to span) bool {
	n := int(from.b - from.a)
	if n != int(to.b-to.a) {
		return false
	}
	if n < 16 {
		return sameWords(b, int(to.a), int(from.a), n+1) == 0
	}
	return bytes.Equal(b[from.a:from.b], b[to.a:to.b])
}

// postedEntries reads the transfer's entries, which repeat its accounts and
// amount (debit then credit), and closes the transfer.
func (p *scanner) postedEntries(v *lineView) bool {
	b, t, n, e := p.b, &v.transfer, &v.numbers, &v.entries
	// The strings that repeat the transfer's, each with its closing
	// quote: 1 to 16 bytes (nearly every id and amount) compared by
	// sameWords, inlined, any other by sameAt.
	nf, na, nt := int(t.from.b-t.from.a)+1, int(t.amount.b-t.amount.a)+1, int(t.to.b-t.to.a)+1
	if len(b)-p.i < 2*maxLit { // the next two literals' room
		return false
	}
	d, i := litIn(b, p.i, `,"entries":[{"ac`)
	x, i := litIn(b, i, `count":"`)
	d |= x
	if nf <= 16 && len(b)-i >= 16+2*maxLit { // and the next two literals' room
		x, e[0][0], i = sameWords(b, i, int(t.from.a), nf), span{int32(i), int32(i + nf - 1)}, i+nf
	} else if x, e[0][0], i = sameAt(b, i, t.from); len(b)-i < 2*maxLit {
		return false
	}
	d |= x
	x, i = litIn(b, i, `,"type":"debit",`)
	d |= x
	x, i = litIn(b, i, `"amount":"`)
	d |= x
	if na <= 16 && len(b)-i >= 16+maxLit { // and the next literal's room
		x, e[0][2], i = sameWords(b, i, int(t.amount.a), na), span{int32(i), int32(i + na - 1)}, i+na
	} else if x, e[0][2], i = sameAt(b, i, t.amount); len(b)-i < maxLit {
		return false
	}
	d |= x
	x, i = litIn(b, i, `,"balance":"`)
	d |= x
	k, places := -1, 0
	if useAVX2 && len(b)-i >= 17 { // as postedTransfer's amount
		n.values[1], places, k = literal16(byteAt(b, i), true)
	}
	if k > 0 {
		e[0][3], n.places[1], i = span{int32(i), int32(i + k)}, int8(places), i+k
	} else {
		e[0][3], n.values[1], n.places[1], i = literalAt(b, i, true)
	}
	x, i = lit(b, i, `"},{"account":"`)
	d |= x
	if nt <= 16 && len(b)-i >= 16+2*maxLit { // and the next two literals' room
		x, e[1][0], i = sameWords(b, i, int(t.to.a), nt), span{int32(i), int32(i + nt - 1)}, i+nt
	} else if x, e[1][0], i = sameAt(b, i, t.to); len(b)-i < 2*maxLit {
		return false
	}
	d |= x
	x, i = litIn(b, i, `,"type":"credit"`)
	d |= x
	x, i = litIn(b, i, `,"amount":"`)
	d |= x
	if na <= 16 && len(b)-i >= 16+maxLit { // and the next literal's room
		x, e[1][2], i = sameWords(b, i, int(t.amount.a), na), span{int32(i), int32(i + na - 1)}, i+na
	} else if x, e[1][2], i = sameAt(b, i, t.amount); len(b)-i < maxLit {
		return false
	}
	d |= x
	x, i = litIn(b, i, `,"balance":"`)
	d |= x
	k, places = -1, 0
	if useAVX2 && len(b)-i >= 17 { // as postedTransfer's amount
		n.values[2], places, k = literal16(byteAt(b, i), true)
	}
	if k > 0 {
		e[1][3], n.places[2], i = span{int32(i), int32(i + k)}, int8(places), i+k
	} else {
		e[1][3], n.values[2], n.places[2], i = literalAt(b, i, true)
	}
	if d != 0 || e[0][3].a == e[0][3].b || e[1][3].a == e[1][3].b {
		return false
	}
	// The entries' types are in the literals: where they lie in the line.
	e[0][1] = span{e[0][0].b + 10, e[0][0].b + 15}
	e[1][1] = span{e[1][0].b + 10, e[1][0].b + 16}
	n.ok = true
	p.i = i
	return true
}

// prevHash reads the line's prev_hash, which must be prev in lower-case
// hex, up to the hash suffix that verifyLineHash checked.
func (p *scanner) prevHash(v *lineView, prev *Hash) bool {
	line := p.b
	if len(line)-p.i != len(`"}]},"prev_hash":"`)+2*HashSize+1+hashSuffixLen {
		return false
	}
	d, i := litIn(line, p.i, `"}]},"prev`)
	x, i := litIn(line, i, `_hash":"`)
	if d|x != 0 || line[i+2*HashSize] != '"' ||
		!hexOf(line[i:i+2*HashSize], prev) {
		return false
	}
	v.prevHash, v.chained = span{int32(i), int32(i + 2*HashSize)}, true
	p.i = i + 2*HashSize + 1
	return true
}

// plainStr is str for a string that is nothing but what needs no escape
// and that the encoding does not escape (strMask finds none of it before
// the closing quote), read a word at a time without str's note of what
// it found; any other string str reads. printable: the string is
// plainStr's, and holds no DEL (0x7f) either, which the same words show:
// every byte of it is printable ASCII (' ' to '~'), which validateText
// takes as its characters without decoding (printableASCII's rule).
func (p *scanner) plainStr() (_ span, printable bool) {
	b, i := p.b, p.i
	if i >= len(b) || b[i] != '"' {
		return p.str(), false
	}
	for j := i + 1; len(b)-j >= 8; j += 8 {
		x := binary.LittleEndian.Uint64(b[j:])
		// DEL's test is exact from the lowest byte up, as strMask's.
		del := x ^ lsb*0x7f
		if m := strMask(x) | (del-lsb)&^del&(lsb*0x80); m != 0 {
			j += bits.TrailingZeros64(m) >> 3
			if b[j] != '"' {
				break
			}
			p.i = j + 1
			return span{int32(i + 1), int32(j)}, true
		}
	}
	return p.str(), false
}

// at reports whether the literal s is at p.i, and consumes it if so: an
// optional field's name.
func (p *scanner) at(s string) bool {
	d, i := lit(p.b, p.i, s)
	if d != 0 {
		return false
	}
	p.i = i
	return true
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

// idAt reads from i the characters of a string of 1 to MaxIDLen id
// characters (validateIDChars' rule), which needs no escape, up to its
// closing quote: their span (empty if there are none or too many) and
// where they end.
func idAt(b []byte, i int) (span, int) {
	end := charsAt(b, i, &idChars, &idNibbles)
	if end == i || end-i > MaxIDLen {
		return span{}, end
	}
	return span{int32(i), int32(end)}, end
}

// idsAt reads from i a posting's transfer id, from and to, each of
// idAt's characters, with the literals between them (compared as lit
// does: their differences returned), and returns where to ends. Where
// the line has room for ids3's windows and each string ends within its
// window (ids of fewer than 32 characters, nearly every one), one call
// finds the three ends; else idAt reads each.
func idsAt(b []byte, i int, t *transferSpans) (uint64, int) {
	if useAVX2 && idNibbles.ok && len(b)-i >= idsWindow {
		if e0, e1, e2 := ids3((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i)), &idNibbles); e0|e1|e2 < 32 {
			// The ends are idAt's: the first byte that is not an id
			// character, each within its window.
			f := i + int(e0) + len(`","from":"`)
			to := f + int(e1) + len(`","to":"`)
			t.id, t.from, t.to = span{int32(i), int32(f - 10)}, span{int32(f), int32(to - 8)}, span{int32(to), int32(to) + int32(e2)}
			// Within the windows (idsWindow): f-10 < i+32, to-8 < i+74.
			d, _ := litIn(b, f-10, `","from":"`)
			x, _ := litIn(b, to-8, `","to":"`)
			if e0 == 0 || e1 == 0 || e2 == 0 { // empty: as idAt says
				d = 1
			}
			return d | x, to + int(e2)
		}
	}
	var d, x uint64
	t.id, i = idAt(b, i)
	d, i = lit(b, i, `","from":"`)
	t.from, i = idAt(b, i)
	x, i = lit(b, i, `","to":"`)
	t.to, i = idAt(b, i)
	return d | x, i
}

// idsWindow is what ids3 may read: three windows of 32 bytes and the two
// literals between them, each window starting at most 32 bytes on.
const idsWindow = 3*32 + len(`","from":"`) + len(`","to":"`)

// codeChars marks the bytes an asset code may hold after its first, as
// validateAssetCode says.
var codeChars = func() (t [256]bool) {
	for c := range t {
		t[c] = validateAssetCode("", "A"+string(rune(c))) == nil && c < 0x80
	}
	return t
}()
