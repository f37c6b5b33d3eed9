package domain

import (
	"encoding/binary"
	"time"
	"unicode/utf8"
)

// A hand-written reader for the canonical encoding, the bytes AppendEvent
// writes. encoding/json spends most of a rebuild's time in reflection; this
// reader only recognises the canonical form (fields in their fixed order,
// no whitespace, strings without escapes, times in UTC) and gives up on
// anything else, which then goes to encoding/json. It therefore never
// accepts a line that encoding/json would read differently: FuzzDecodeFast
// checks that whenever it accepts a line, encoding/json decodes the same
// event from it.

// span is a half-open byte range of a line.
type span struct{ a, b int32 }

func (s span) of(line string) string { return line[s.a:s.b] }

// transferSpans are the fields that a posted and a rejected transfer share.
type transferSpans struct {
	id, from, to, amount, asset, reference span
	meta                                   metaRange
}

// metaRange is a run of key, value pairs in lineView.meta.
type metaRange struct{ from, to int32 }

// lineView is an event line parsed in place: numbers decoded, the time
// checked, strings as spans of the line.
type lineView struct {
	// What applying a posted transfer reads comes first, in as few cache
	// lines as possible: lines are prepared on one core and applied on
	// another.
	seq      uint64
	command  CommandRef
	typ      span
	transfer transferSpans
	payload  byte // 'a' asset, 'o' account, 't' transfer, 'r' rejection, 0 none
	chained  bool // prevHash is the hash scanLine was given
	hasHash  bool

	version   int
	clock     clock
	prevHash  span
	hash      span
	assetCode span
	scale     int
	account   struct{ id, asset, limit, owner span }
	accMeta   metaRange
	entries   [2][4]span // account, type, amount, balance
	code      span
	detail    span
	meta      []span // key, value, key, value, ...
}

// scanner reads a line; bad is set at the first byte that is not the
// canonical encoding, after which every method is a no-op.
type scanner struct {
	b   []byte
	i   int
	bad bool
}

// lit consumes the literal s.
func (p *scanner) lit(s string) {
	if p.bad || len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		p.bad = true
		return
	}
	p.i += len(s)
}

// opt consumes the literal s if it comes next and reports whether it did.
func (p *scanner) opt(s string) bool {
	if p.bad || len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// str reads a JSON string that needs no unescaping: printable ASCII or
// valid UTF-8, without '\\' or control characters. encoding/json returns
// such a string's bytes unchanged.
func (p *scanner) str() span {
	if p.bad || p.i >= len(p.b) || p.b[p.i] != '"' {
		p.bad = true
		return span{}
	}
	start := p.i + 1
	ascii := true
	j := start
	// Eight bytes at a time while none of them needs a closer look.
	for j+8 <= len(p.b) && !special(binary.LittleEndian.Uint64(p.b[j:])) {
		j += 8
	}
	for ; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			if !ascii && !utf8.Valid(p.b[start:j]) {
				p.bad = true
				return span{}
			}
			p.i = j + 1
			return span{int32(start), int32(j)}
		case c == '\\' || c < 0x20:
			p.bad = true
			return span{}
		case c >= 0x80:
			ascii = false
		}
	}
	p.bad = true
	return span{}
}

// special reports whether any byte of the eight in x is '"', '\\', a
// control character or not ASCII. Each term is the classic exact test for
// "some byte is zero" (for '"' and '\\', after an xor) or "some byte is
// below n"; x&msb finds bytes from 0x80 up.
func special(x uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	return ((q-lsb)&^q|(bs-lsb)&^bs|(x-lsb*0x20)&^x|x)&msb != 0
}

// uint reads a JSON number that is a non-negative integer without a
// leading zero and fits in max.
func (p *scanner) uint(max uint64) uint64 {
	if p.bad || p.i >= len(p.b) {
		p.bad = true
		return 0
	}
	start := p.i
	var v uint64
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c < '0' || c > '9' {
			break
		}
		d := uint64(c - '0')
		if v > (max-d)/10 {
			p.bad = true
			return 0
		}
		v = v*10 + d
		p.i++
	}
	if p.i == start || p.b[start] == '0' && p.i-start > 1 {
		p.bad = true
	}
	// A fraction or exponent would make it a float: not canonical.
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.bad = true
	}
	return v
}

const maxInt = int(^uint(0) >> 1)

func (p *scanner) int() int { return int(p.uint(uint64(maxInt))) }

// meta reads a metadata object with keys in strictly increasing order, as
// encoding/json writes a map, into v.meta.
func (p *scanner) meta(v *lineView) metaRange {
	r := metaRange{from: int32(len(v.meta))}
	p.lit(`{`)
	for !p.bad {
		k := p.str()
		p.lit(`:`)
		val := p.str()
		if n := len(v.meta); n > int(r.from) && string(p.b[v.meta[n-2].a:v.meta[n-2].b]) >= string(p.b[k.a:k.b]) {
			p.bad = true // out of order or repeated: encoding/json would keep the last
		}
		v.meta = append(v.meta, k, val)
		if !p.opt(`,`) {
			break
		}
	}
	p.lit(`}`)
	r.to = int32(len(v.meta))
	return r
}

// transfer reads the fields of a Transfer, up to but not including the
// payload's next field or closing brace.
func (p *scanner) transfer(v *lineView) transferSpans {
	var t transferSpans
	p.lit(`{"id":`)
	t.id = p.str()
	p.lit(`,"from":`)
	t.from = p.str()
	p.lit(`,"to":`)
	t.to = p.str()
	p.lit(`,"amount":`)
	t.amount = p.str()
	if p.opt(`,"asset":`) {
		t.asset = p.str()
	}
	if p.opt(`,"reference":`) {
		t.reference = p.str()
	}
	if p.opt(`,"metadata":`) {
		t.meta = p.meta(v)
	}
	return t
}

// clock is a checked UTC time, not yet a time.Time: building one costs
// more than a rebuild can spare per event, and State.Apply never reads it.
type clock struct {
	year, month, day, hour, minute, sec, nsec int32
}

func (c clock) time() time.Time {
	return time.Date(int(c.year), time.Month(c.month), int(c.day), int(c.hour), int(c.minute), int(c.sec), int(c.nsec), time.UTC)
}

// time reads a UTC time as encoding/json writes it (RFC 3339 with 'Z' and
// up to nine fractional digits), with time.Time's own range checks.
func (p *scanner) time() clock {
	s := p.str()
	if p.bad {
		return clock{}
	}
	b := p.b[s.a:s.b]
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		p.bad = true
		return clock{}
	}
	num := func(b []byte, min, max int) int {
		x := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				p.bad = true
				return min
			}
			x = x*10 + int(c-'0')
		}
		if x < min || x > max {
			p.bad = true
			return min
		}
		return x
	}
	year := num(b[0:4], 0, 9999)
	month := num(b[5:7], 1, 12)
	day := num(b[8:10], 1, daysIn(month, year))
	hour := num(b[11:13], 0, 23)
	minute := num(b[14:16], 0, 59)
	sec := num(b[17:19], 0, 59)
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			p.bad = true
			return clock{}
		}
		nsec = num(frac[1:], 0, 999_999_999)
		for range 10 - len(frac) {
			nsec *= 10
		}
	}
	if p.bad {
		return clock{}
	}
	return clock{int32(year), int32(month), int32(day), int32(hour), int32(minute), int32(sec), int32(nsec)}
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// scanLine parses a stored line in the canonical encoding into v and
// reports whether it could; v.meta is reused. With prev, the caller has
// checked the line's hash suffix (verifyLineHash), which is then not read
// again, and v.chained tells whether the line's prev_hash is prev.
func scanLine(line []byte, v *lineView, prev *Hash) bool {
	if len(line) > 1<<31-1 {
		return false
	}
	meta := v.meta[:0]
	*v = lineView{meta: meta}
	p := scanner{b: line}
	p.lit(`{"seq":`)
	v.seq = p.uint(^uint64(0))
	p.lit(`,"type":`)
	v.typ = p.str()
	p.lit(`,"v":`)
	v.version = p.int()
	p.lit(`,"command":{"seq":`)
	v.command.Seq = p.uint(^uint64(0))
	p.lit(`,"item":`)
	v.command.Item = p.int()
	p.lit(`},"time":`)
	v.clock = p.time()
	switch {
	case p.opt(`,"asset":{"code":`):
		v.payload = 'a'
		v.assetCode = p.str()
		p.lit(`,"scale":`)
		v.scale = p.int()
		p.lit(`}`)
	case p.opt(`,"account":{"id":`):
		v.payload = 'o'
		v.account.id = p.str()
		p.lit(`,"asset":`)
		v.account.asset = p.str()
		if p.opt(`,"overdraft_limit":`) {
			v.account.limit = p.str()
		}
		if p.opt(`,"owner":`) {
			v.account.owner = p.str()
		}
		if p.opt(`,"metadata":`) {
			v.accMeta = p.meta(v)
		}
		p.lit(`}`)
	case p.opt(`,"transfer":`):
		v.payload = 't'
		v.transfer = p.transfer(v)
		p.lit(`,"entries":[`)
		for i := range v.entries {
			if i > 0 {
				p.lit(`,`)
			}
			e := &v.entries[i]
			p.lit(`{"account":`)
			e[0] = p.str()
			p.lit(`,"type":`)
			e[1] = p.str()
			p.lit(`,"amount":`)
			e[2] = p.str()
			p.lit(`,"balance":`)
			e[3] = p.str()
			p.lit(`}`)
		}
		p.lit(`]}`)
	case p.opt(`,"rejection":`):
		v.payload = 'r'
		v.transfer = p.transfer(v)
		p.lit(`,"code":`)
		v.code = p.str()
		p.lit(`,"detail":`)
		v.detail = p.str()
		p.lit(`}`)
	}
	p.lit(`,"prev_hash":`)
	if prev != nil && p.i+2+2*HashSize <= len(line) && line[p.i] == '"' && line[p.i+1+2*HashSize] == '"' &&
		hexOf(line[p.i+1:p.i+1+2*HashSize], prev) {
		// The expected hash: 64 hex digits, nothing to unescape.
		v.prevHash, v.chained = span{int32(p.i + 1), int32(p.i + 1 + 2*HashSize)}, true
		p.i += 2 + 2*HashSize
	} else {
		v.prevHash = p.str()
	}
	if prev != nil && len(line)-p.i == hashSuffixLen {
		// Checked by verifyLineHash: `,"hash":"` 64 lower-case hex `"}`.
		v.hash, v.hasHash = span{int32(p.i + 9), int32(len(line) - 2)}, true
		p.i = len(line) - 1
	} else if p.opt(`,"hash":`) {
		v.hash, v.hasHash = p.str(), true
	}
	p.lit(`}`)
	return !p.bad && p.i == len(line)
}

// eventParts are the payload structs an event points to, kept to be
// reused from one line to the next.
type eventParts struct {
	asset     Asset
	account   Account
	transfer  PostedTransfer
	rejection RejectedTransfer
}

// fill sets ev from v; s is the line as a string, which every string of
// ev shares. With parts (the Replayer's and Line.View's), ev's payload
// points into parts instead of new allocations, and ev.Time is left zero.
func (v *lineView) fill(ev *Event, s string, parts *eventParts) {
	var t time.Time
	if parts == nil {
		parts = new(eventParts)
		t = v.clock.time()
	}
	*ev = Event{
		Seq: v.seq, Type: EventType(v.typ.of(s)), Version: v.version, Command: v.command,
		Time: t, PrevHash: v.prevHash.of(s), Hash: v.hash.of(s),
	}
	switch v.payload {
	case 'a':
		parts.asset = Asset{Code: v.assetCode.of(s), Scale: v.scale}
		ev.Asset = &parts.asset
	case 'o':
		parts.account = Account{ID: v.account.id.of(s), Asset: v.account.asset.of(s),
			OverdraftLimit: v.account.limit.of(s), Owner: v.account.owner.of(s), Metadata: v.metadata(v.accMeta, s)}
		ev.Account = &parts.account
	case 't':
		parts.transfer = PostedTransfer{Transfer: v.transferOf(s)}
		for i, e := range v.entries {
			parts.transfer.Entries[i] = Entry{Account: e[0].of(s), Type: e[1].of(s), Amount: e[2].of(s), Balance: e[3].of(s)}
		}
		ev.Transfer = &parts.transfer
	case 'r':
		parts.rejection = RejectedTransfer{Transfer: v.transferOf(s), Code: Code(v.code.of(s)), Detail: v.detail.of(s)}
		ev.Rejection = &parts.rejection
	}
}

func (v *lineView) transferOf(s string) Transfer {
	t := &v.transfer
	return Transfer{ID: t.id.of(s), From: t.from.of(s), To: t.to.of(s), Amount: t.amount.of(s),
		Asset: t.asset.of(s), Reference: t.reference.of(s), Metadata: v.metadata(t.meta, s)}
}

func (v *lineView) metadata(r metaRange, s string) map[string]string {
	if r.to == r.from {
		return nil
	}
	m := make(map[string]string, (r.to-r.from)/2)
	for i := r.from; i < r.to; i += 2 {
		m[v.meta[i].of(s)] = v.meta[i+1].of(s)
	}
	return m
}
