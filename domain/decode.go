package domain

import "time"

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
	memo                                   bool
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
	// fracZero: the time has a fraction ending in '0', which the reader
	// accepts and the canonical encoding never writes.
	fracZero bool
	// escapable: a string holds what the encoding escapes (scanner).
	escapable bool

	version int
	clock   clock
	// unix: the clock's Unix seconds, set by the posting reader only
	// (postingTime), which PostingView reads.
	unix      int64
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
	// numbers: what the posting reader (scanPosting) parsed; zero after
	// scanLine.
	numbers postingNumbers
}

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
	t.memo = p.opt(`,"memo":true`)
	return t
}

// scanLine parses a stored line in the canonical encoding into v and
// reports whether it could; v.meta is reused. With prev, the caller has
// checked the line's hash suffix (Sealed.check), which is then not read
// again, and v.chained tells whether the line's prev_hash is prev.
//
// The line is read in one pass, in the order of Event's fields; only the
// larger payloads are read by methods of their own.
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
	timeAt := p.i
	v.clock = p.time()
	// `"2006-01-02T15:04:05Z"` is 22 bytes with its quotes; longer, it has
	// a fraction, whose last digit is just before the `Z"`.
	v.fracZero = !p.bad && p.i-timeAt > 22 && line[p.i-3] == '0'
	switch {
	case p.opt(`,"asset":{"code":`):
		v.payload = 'a'
		v.assetCode = p.str()
		p.lit(`,"scale":`)
		v.scale = p.int()
		p.lit(`}`)
	case p.opt(`,"account":{"id":`):
		v.payload = 'o'
		p.account(v)
	case p.opt(`,"transfer":`):
		v.payload = 't'
		v.transfer = p.transfer(v)
		p.entries(v)
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
		// Checked by Sealed.check: `,"hash":"` 64 lower-case hex `"}`.
		v.hash, v.hasHash = span{int32(p.i + 9), int32(len(line) - 2)}, true
		p.i = len(line) - 1
	} else if p.opt(`,"hash":`) {
		v.hash, v.hasHash = p.str(), true
	}
	p.lit(`}`)
	v.escapable = p.escapable
	return !p.bad && p.i == len(line)
}

// account reads an account's fields after its id's key, and its closing
// brace.
func (p *scanner) account(v *lineView) {
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
}

// entries reads a posted transfer's two entries, and closes the transfer.
func (p *scanner) entries(v *lineView) {
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
		// Built in place (not from transferOf's copy): nearly every event.
		t, e := &v.transfer, &v.entries
		parts.transfer = PostedTransfer{Transfer: Transfer{ID: t.id.of(s), From: t.from.of(s), To: t.to.of(s),
			Amount: t.amount.of(s), Asset: t.asset.of(s), Reference: t.reference.of(s),
			Metadata: v.metadata(t.meta, s), Memo: t.memo}, Entries: [2]Entry{
			{Account: e[0][0].of(s), Type: e[0][1].of(s), Amount: e[0][2].of(s), Balance: e[0][3].of(s)},
			{Account: e[1][0].of(s), Type: e[1][1].of(s), Amount: e[1][2].of(s), Balance: e[1][3].of(s)},
		}}
		ev.Transfer = &parts.transfer
	case 'r':
		parts.rejection = RejectedTransfer{Transfer: v.transferOf(s), Code: Code(v.code.of(s)), Detail: v.detail.of(s)}
		ev.Rejection = &parts.rejection
	}
}

func (v *lineView) transferOf(s string) Transfer {
	t := &v.transfer
	return Transfer{ID: t.id.of(s), From: t.from.of(s), To: t.to.of(s), Amount: t.amount.of(s),
		Asset: t.asset.of(s), Reference: t.reference.of(s), Metadata: v.metadata(t.meta, s), Memo: t.memo}
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
