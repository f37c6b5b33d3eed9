package domain

import (
	"encoding/binary"
	"strconv"
	"unsafe"
)

// What the posting reader keeps from one line to the next (Line.memo):
// the fields that nearly every posting repeats from the one before, or
// follows by one, as the bytes that the reader took there and their
// values. A field whose bytes are those is read by comparing them (a
// word or two), and is what the reader read from them then, because its
// reading is a function of the bytes alone: a sequence's value, a time's
// date and clock, an asset code's or a reference's checks. Any other
// field is read as before, and then kept. A memo holds only bytes that
// the full reading accepted, so it never takes a field that the reading
// refuses (TestPostingReaderSequences, FuzzPostingReaderPair).

// postingMemo is a Line's memory of the fields of the postings it read.
type postingMemo struct {
	// seq holds the last sequence plus one, cmd the last command's
	// sequence, item the last item plus one.
	seq, cmd, item decimalMemo
	time           timeMemo
	asset, ref     bytesMemo
	// assetRef: the asset and the reference together (assetRefMemo).
	assetRef assetRefMemo
}

// decimalMemo is a number below memoBound in its decimal form, followed
// by the byte that ends it in the line (a literal's first), as
// word-sized pieces: the number is at i when the bytes from i are these.
// n is 0 where it holds nothing.
type decimalMemo struct {
	d    [16]byte // the digits, the end byte, zeros
	mask [2]uint64
	v    uint64
	n    int
	// last is the last digit's index, n-1; 15 where the memo holds
	// nothing, with d[15] a '9' so that inc goes to incCarry.
	last uint8
}

// memoBound bounds a decimalMemo's numbers: below it they have at most
// 15 digits, which with their end byte fit two words. A larger number is
// read by uint each time.
const memoBound = 1e15

// match reports whether b holds the memo's number and its end byte from
// i; the caller takes m.v and moves m.n bytes on.
func (m *decimalMemo) match(b []byte, i int) bool {
	return m.n != 0 && len(b)-i >= 16 &&
		(word(b, i)^binary.LittleEndian.Uint64(m.d[:8]))&m.mask[0]|
			(word(b, i+8)^binary.LittleEndian.Uint64(m.d[8:]))&m.mask[1] == 0
}

// set makes the memo hold v, ended by end; nothing if v is memoBound or
// more.
func (m *decimalMemo) set(v uint64, end byte) {
	m.n, m.last, m.d[15] = 0, 15, '9'
	if v >= memoBound {
		return
	}
	m.d = [16]byte{}
	n := len(strconv.AppendUint(m.d[:0], v, 10))
	m.d[n] = end
	m.v, m.n, m.last = v, n, uint8(n-1)
	k := uint(n + 1) // the bytes compared
	m.mask = [2]uint64{^uint64(0), 0}
	if k < 8 {
		m.mask[0] = 1<<(8*k) - 1
	} else if k > 8 {
		m.mask[1] = ^uint64(0) >> (8 * (16 - k))
	}
}

// inc makes the memo hold its number plus one, in place: its last digit
// one more where it is not a nine (nearly always), else incCarry.
func (m *decimalMemo) inc() {
	if d := &m.d[m.last&15]; *d != '9' {
		*d++
		m.v++
	} else {
		m.incCarry()
	}
}

// incCarry is inc through the nines, or set where the number grows a
// digit (or holds none).
func (m *decimalMemo) incCarry() {
	if m.n == 0 {
		return
	}
	j := m.n - 1
	for j >= 0 && m.d[j&15] == '9' {
		m.d[j&15] = '0'
		j--
	}
	if j < 0 {
		m.set(m.v+1, m.d[m.n&15])
		return
	}
	m.d[j&15]++
	m.v++
}

// itemOne is the item memo after an item 0: 1, ended by '}'.
var itemOne = func() (m decimalMemo) {
	m.set(1, '}')
	return m
}()

// uintMemo reads a sequence at p.i as p.uint(max) does, ended by end,
// from m where the bytes there are m's number (max is never below it: a
// memo's number has at most 15 digits), and keeps the number read in m
// otherwise (uintSet).
func (p *scanner) uintMemo(m *decimalMemo, end byte, max uint64) uint64 {
	if m.match(p.b, p.i) {
		p.i += m.n
		return m.v
	}
	return p.uintSet(m, end, max)
}

// uintSet is p.uint(max), its number kept in m.
func (p *scanner) uintSet(m *decimalMemo, end byte, max uint64) uint64 {
	v := p.uint(max)
	if !p.bad {
		m.set(v, end)
	}
	return v
}

// timeMemo is the fixed part of the last time read, the 19 bytes from
// the quote's next (2026-12-07T01:16:54), as three words, its clock but
// for the fraction and its Unix seconds (with date, the days of the last
// date made). ok: it holds one.
type timeMemo struct {
	w0, w1, w2 uint64 // w2: the last three bytes
	clock      clock
	secs       int64
	date       dateDays
	ok         bool
}

// postingTime reads a time into v.clock as p.time does, and its Unix
// seconds into v.unix, where its fixed part is m's by comparing the
// bytes; it keeps the fixed part of any other that it reads.
func (p *scanner) postingTime(v *lineView, m *timeMemo) {
	b, i, c := p.b, p.i, &v.clock
	if len(b)-i < 32 || p.bad {
		*c = p.time()
		v.unix = c.unix()
		return
	}
	q := (*[32]byte)(unsafe.Pointer(byteAt(b, i))) // in b: tested above
	w0, w1, w2 := binary.LittleEndian.Uint64(q[1:9]), binary.LittleEndian.Uint64(q[9:17]), binary.LittleEndian.Uint64(q[17:25])
	if !m.ok || q[0] != '"' || w0 != m.w0 || w1 != m.w1 || w2&0xffffff != m.w2 {
		*c = p.time()
		if !p.bad {
			m.w0, m.w1, m.w2, m.clock, m.ok = w0, w1, w2&0xffffff, *c, true
			m.clock.nsec, m.secs = 0, m.date.unix(c)
			v.unix = m.secs
		}
		return
	}
	*c, v.unix = m.clock, m.secs
	// Nine digits, nearly always (timeFraction's reading of them), else
	// timeFraction.
	if x := binary.LittleEndian.Uint64(q[21:29]); q[20] == '.' && notDigits(x) == 0 && q[29]-'0' <= 9 &&
		q[30] == 'Z' && q[31] == '"' {
		c.nsec = int32(digitsValue(x^lsb*'0', 8))*10 + int32(q[29]-'0')
		p.i = i + 32
		return
	}
	nsec, j, ok := timeFraction(q)
	if !ok || q[j] != 'Z' || q[j+1] != '"' { // j+2 <= 32
		*c = clock{}
		p.bad = true
		return
	}
	c.nsec = nsec
	p.i = i + j + 2
}

// bytesMemo is a string of the line that the reader took, with the eight
// bytes before it (the end of the literal that names it, so that it is
// never shorter than a word) and its closing quote: n bytes of at most
// 48. The string is where the bytes from i are these.
type bytesMemo struct {
	d [48]byte
	n int
}

// match reports whether b holds the memo's bytes from i, compared a word
// at a time, the last word ending where they end (and the caller has
// m.n bytes to move on).
func (m *bytesMemo) match(b []byte, i int) bool {
	n := m.n
	if n < 8 || len(b)-i < len(m.d) {
		return false
	}
	d, md := word(b, i+n-8)^word(m.d[:], n-8), m.d[:]
	switch (n - 1) >> 3 { // the words before the last, unrolled: 0 to 5
	case 5:
		d |= word(b, i+32) ^ word(md, 32)
		fallthrough
	case 4:
		d |= word(b, i+24) ^ word(md, 24)
		fallthrough
	case 3:
		d |= word(b, i+16) ^ word(md, 16)
		fallthrough
	case 2:
		d |= word(b, i+8) ^ word(md, 8)
		fallthrough
	case 1:
		d |= word(b, i) ^ word(md, 0)
	}
	return d == 0
}

// set makes the memo hold s, if it has 8 to 48 bytes.
func (m *bytesMemo) set(s []byte) {
	m.n = 0
	if len(s) >= 8 && len(s) <= len(m.d) {
		m.n = copy(m.d[:], s)
	}
}

// asset reads the transfer's asset code at i and its closing quote, and
// checks it (validateAssetCode): as the last line's, whose bytes and
// quote the memo m holds with the literal's eight bytes before them, or
// as any code, which m then keeps.
func (p *scanner) asset(t *transferSpans, i int, m *bytesMemo) bool {
	b := p.b
	if m.match(b, i-8) {
		t.asset = span{int32(i), int32(i + m.n - 9)}
		return true
	}
	t.asset = span{int32(i), int32(charsAt(b, i, &codeChars, &codeNibbles))}
	end := int(t.asset.b)
	if end >= len(b) || b[end] != '"' || validateAssetCode("asset", p.text(t.asset)) != nil {
		return false
	}
	m.set(b[i-8 : end+1])
	return true
}

// reference reads the transfer's reference at p.i (its opening quote)
// and checks it (validateText): as the last line's, whose bytes the memo
// m holds with the literal's eight bytes before them, or as any, which m
// then keeps if it is plainStr's and printable.
func (p *scanner) reference(t *transferSpans, m *bytesMemo) bool {
	b, i := p.b, p.i
	if m.match(b, i-8) {
		t.reference = span{int32(i + 1), int32(i + m.n - 9)}
		p.i = i + m.n - 8
		return true
	}
	ref, printable := p.plainStr()
	t.reference = ref
	if p.bad || ref.a == ref.b ||
		!(printable && ref.b-ref.a <= MaxReferenceLen) && // validateText's first test, passed
			validateText("reference", p.text(ref), MaxReferenceLen) != nil {
		return false
	}
	if printable {
		m.set(b[i-8 : p.i])
	}
	return true
}

// assetRefMemo is the last line's asset code and its reference, where it
// had one that the reference memo keeps, as one run of bytes from the
// eight before the code to the reference's closing quote (up to 64:
// `asset":"BENCH","reference":"bench-run-7b250376"` is 47), with where
// the code ends and the reference starts in it: a line whose bytes from
// there are these has that code and that reference, which the reader
// took (their readings are functions of their bytes, and what lies
// between them is the literal `","reference":"`). One comparison where
// the two memos took two, and the reference's name between them.
type assetRefMemo struct {
	d    [64]byte
	n    int   // the bytes held; 0: none
	code int32 // where the code's closing quote is, from d's start
	ref  int32 // where the reference starts, from d's start
}

// match reports whether b holds the memo's bytes from i (as
// bytesMemo.match: the words before the last, then the last ending where
// the bytes end), b having room for all of d from i; unrolled, entered
// at the first word a memo of n bytes compares.
func (m *assetRefMemo) match(b []byte, i int) bool {
	n := m.n
	if n < 8 || len(b)-i < len(m.d) {
		return false
	}
	d, md := word(b, i+n-8)^word(m.d[:], n-8), m.d[:]
	switch (n - 1) >> 3 { // the words before the last: 0 to 7
	case 7:
		d |= word(b, i+48) ^ word(md, 48)
		fallthrough
	case 6:
		d |= word(b, i+40) ^ word(md, 40)
		fallthrough
	case 5:
		d |= word(b, i+32) ^ word(md, 32)
		fallthrough
	case 4:
		d |= word(b, i+24) ^ word(md, 24)
		fallthrough
	case 3:
		d |= word(b, i+16) ^ word(md, 16)
		fallthrough
	case 2:
		d |= word(b, i+8) ^ word(md, 8)
		fallthrough
	case 1:
		d |= word(b, i) ^ word(md, 0)
	}
	return d == 0
}

// assetRef reads the transfer's asset code at i and its reference, if it
// has one, up to the reference's closing quote (p.i after it, or after
// the code's closing quote): from the memo of both where the bytes are
// the last line's, else with asset and reference. The memo of both is
// kept only where the reference is the last line's too (the reference
// memo's), so that a journal whose references differ from line to line
// pays for neither the comparison nor the copy: a memo that holds
// nothing is refused by its length.
func (p *scanner) assetRef(t *transferSpans, i int, m *postingMemo) bool {
	b, r := p.b, &m.assetRef
	if r.match(b, i-8) {
		t.asset = span{int32(i), int32(i-8) + r.code}
		t.reference = span{int32(i-8) + r.ref, int32(i - 8 + r.n - 1)}
		p.i = i - 8 + r.n
		return true
	}
	r.n = 0
	if !p.asset(t, i, &m.asset) {
		return false
	}
	p.i = int(t.asset.b) + 1
	if !p.at(`,"reference":`) {
		return true
	}
	j := p.i
	if !m.ref.match(b, j-8) {
		return p.reference(t, &m.ref)
	}
	// reference's first case: the last line's reference, which the
	// reference memo holds only where it was printable (nothing that
	// the encoding escapes).
	t.reference = span{int32(j + 1), int32(j + m.ref.n - 9)}
	p.i = j + m.ref.n - 8
	if p.i-(i-8) <= len(r.d) {
		r.n = copy(r.d[:], b[i-8:p.i])
		r.code, r.ref = t.asset.b-int32(i-8), t.reference.a-int32(i-8)
	}
	return true
}
