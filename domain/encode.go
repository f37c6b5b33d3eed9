package domain

import (
	"encoding/binary"
	"slices"
	"strconv"
	"time"
)

// A hand-written writer of the canonical encoding. The canonical encoding
// is defined as what encoding/json writes for an Event (journal.go), and
// every journal's hashes depend on it, so this writer is only a faster way
// to the same bytes: it handles the events the processor writes (UTC
// times, strings that encoding/json copies unescaped) and leaves anything
// else to encoding/json. FuzzAppendCanonical checks it against
// encoding/json.

// appendCanonical appends the canonical encoding of ev to dst and reports
// true, or reports false when ev holds something only encoding/json may
// write (dst's contents past its length are then undefined).
func appendCanonical(dst []byte, ev *Event) ([]byte, bool) {
	if ev.Skip != nil {
		return dst, false // rare: encoding/json writes it
	}
	ok := true
	str := func(b []byte, s string) []byte {
		if !plain(s) {
			ok = false
			return b
		}
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	meta := func(b []byte, m map[string]string) []byte {
		if len(m) == 0 {
			return b
		}
		b = append(b, `,"metadata":{`...)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = str(b, k)
			b = append(b, ':')
			b = str(b, m[k])
		}
		return append(b, '}')
	}
	transfer := func(b []byte, t *Transfer) []byte {
		b = append(b, `{"id":`...)
		b = str(b, t.ID)
		b = append(b, `,"from":`...)
		b = str(b, t.From)
		b = append(b, `,"to":`...)
		b = str(b, t.To)
		b = append(b, `,"amount":`...)
		b = str(b, t.Amount)
		if t.Asset != "" {
			b = append(b, `,"asset":`...)
			b = str(b, t.Asset)
		}
		if t.Reference != "" {
			b = append(b, `,"reference":`...)
			b = str(b, t.Reference)
		}
		return meta(b, t.Metadata)
	}

	t := ev.Time
	if _, offset := t.Zone(); offset != 0 || t.Year() < 0 || t.Year() > 9999 {
		return dst, false // encoding/json writes the zone, or refuses the year
	}
	b := append(dst, `{"seq":`...)
	b = strconv.AppendUint(b, ev.Seq, 10)
	b = append(b, `,"type":`...)
	b = str(b, string(ev.Type))
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, int64(ev.Version), 10)
	b = append(b, `,"command":{"seq":`...)
	b = strconv.AppendUint(b, ev.Command.Seq, 10)
	b = append(b, `,"item":`...)
	b = strconv.AppendInt(b, int64(ev.Command.Item), 10)
	b = append(b, `},"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if a := ev.Asset; a != nil {
		b = append(b, `,"asset":{"code":`...)
		b = str(b, a.Code)
		b = append(b, `,"scale":`...)
		b = strconv.AppendInt(b, int64(a.Scale), 10)
		b = append(b, '}')
	}
	if a := ev.Account; a != nil {
		b = append(b, `,"account":{"id":`...)
		b = str(b, a.ID)
		b = append(b, `,"asset":`...)
		b = str(b, a.Asset)
		if a.OverdraftLimit != "" {
			b = append(b, `,"overdraft_limit":`...)
			b = str(b, a.OverdraftLimit)
		}
		if a.Owner != "" {
			b = append(b, `,"owner":`...)
			b = str(b, a.Owner)
		}
		b = meta(b, a.Metadata)
		b = append(b, '}')
	}
	if p := ev.Transfer; p != nil {
		b = append(b, `,"transfer":`...)
		b = transfer(b, &p.Transfer)
		b = append(b, `,"entries":[`...)
		for i, e := range p.Entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"account":`...)
			b = str(b, e.Account)
			b = append(b, `,"type":`...)
			b = str(b, e.Type)
			b = append(b, `,"amount":`...)
			b = str(b, e.Amount)
			b = append(b, `,"balance":`...)
			b = str(b, e.Balance)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	if r := ev.Rejection; r != nil {
		b = append(b, `,"rejection":`...)
		b = transfer(b, &r.Transfer)
		b = append(b, `,"code":`...)
		b = str(b, string(r.Code))
		b = append(b, `,"detail":`...)
		b = str(b, r.Detail)
		b = append(b, '}')
	}
	b = append(b, `,"prev_hash":`...)
	b = str(b, ev.PrevHash)
	if ev.Hash != "" {
		b = append(b, `,"hash":`...)
		b = str(b, ev.Hash)
	}
	b = append(b, '}')
	return b, ok
}

// plain reports whether encoding/json writes s as its own bytes: printable
// ASCII without '"', '\\' or the HTML characters it escapes ('<', '>',
// '&').
func plain(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if escapes(binary.LittleEndian.Uint64([]byte(s[i : i+8]))) {
			return false
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// escapes reports whether any of the eight bytes in x is one encoding/json
// escapes or that plain refuses: special's set plus '<', '>' and '&'.
func escapes(x uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - lsb) &^ v }
	lt, gt, amp := x^(lsb*'<'), x^(lsb*'>'), x^(lsb*'&')
	return special(x) || (zero(lt)|zero(gt)|zero(amp))&msb != 0
}
