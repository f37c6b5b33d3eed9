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
//
// The writer is split by the event's parts, in the order encoding/json
// writes Event's fields; each part's writer appends to b and clears *ok
// when a string needs escaping (b's contents are then discarded).

// appendCanonical appends the canonical encoding of ev to dst and reports
// true, or reports false when ev holds something only encoding/json may
// write (dst's contents past its length are then undefined).
func appendCanonical(dst []byte, ev *Event) ([]byte, bool) {
	if ev.Payloads() != 1 || ev.Asset == nil && ev.Account == nil && ev.Transfer == nil && ev.Rejection == nil {
		// Only these payloads have a hand-written writer; any other
		// (CommandSkipped, AccountMetadataUpdated, a type added later)
		// is rare, and encoding/json writes it.
		return dst, false
	}
	if _, offset := ev.Time.Zone(); offset != 0 || ev.Time.Year() < 0 || ev.Time.Year() > 9999 {
		return dst, false // encoding/json writes the zone, or refuses the year
	}
	ok := true
	b := appendCanonicalHead(dst, ev, &ok)
	if a := ev.Asset; a != nil {
		b = append(b, `,"asset":{"code":`...)
		b = appendPlain(b, a.Code, &ok)
		b = append(b, `,"scale":`...)
		b = strconv.AppendInt(b, int64(a.Scale), 10)
		b = append(b, '}')
	}
	if a := ev.Account; a != nil {
		b = appendCanonicalAccount(b, a, &ok)
	}
	if p := ev.Transfer; p != nil {
		b = appendCanonicalPosted(b, p, &ok)
	}
	if r := ev.Rejection; r != nil {
		b = append(b, `,"rejection":`...)
		b = appendCanonicalTransfer(b, &r.Transfer, &ok)
		b = append(b, `,"code":`...)
		b = appendPlain(b, string(r.Code), &ok)
		b = append(b, `,"detail":`...)
		b = appendPlain(b, r.Detail, &ok)
		b = append(b, '}')
	}
	b = append(b, `,"prev_hash":`...)
	b = appendPlain(b, ev.PrevHash, &ok)
	if ev.Hash != "" {
		b = append(b, `,"hash":`...)
		b = appendPlain(b, ev.Hash, &ok)
	}
	b = append(b, '}')
	return b, ok
}

// appendCanonicalHead writes the fields every event has, from the opening
// brace to the time (which appendCanonical has checked is UTC in years
// 0-9999).
func appendCanonicalHead(b []byte, ev *Event, ok *bool) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, ev.Seq, 10)
	b = append(b, `,"type":`...)
	b = appendPlain(b, string(ev.Type), ok)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, int64(ev.Version), 10)
	b = append(b, `,"command":{"seq":`...)
	b = strconv.AppendUint(b, ev.Command.Seq, 10)
	b = append(b, `,"item":`...)
	b = strconv.AppendInt(b, int64(ev.Command.Item), 10)
	b = append(b, `},"time":"`...)
	b = ev.Time.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendCanonicalAccount writes an AccountOpened event's account.
func appendCanonicalAccount(b []byte, a *Account, ok *bool) []byte {
	b = append(b, `,"account":{"id":`...)
	b = appendPlain(b, a.ID, ok)
	b = append(b, `,"asset":`...)
	b = appendPlain(b, a.Asset, ok)
	if a.OverdraftLimit != "" {
		b = append(b, `,"overdraft_limit":`...)
		b = appendPlain(b, a.OverdraftLimit, ok)
	}
	if a.Owner != "" {
		b = append(b, `,"owner":`...)
		b = appendPlain(b, a.Owner, ok)
	}
	b = appendCanonicalMetadata(b, a.Metadata, ok)
	return append(b, '}')
}

// appendCanonicalPosted writes a TransferPosted event's transfer and its
// entries.
func appendCanonicalPosted(b []byte, p *PostedTransfer, ok *bool) []byte {
	if p.Reversal != nil {
		*ok = false // a reversal: encoding/json writes it
	}
	b = append(b, `,"transfer":`...)
	b = appendCanonicalTransfer(b, &p.Transfer, ok)
	b = append(b, `,"entries":[`...)
	for i, e := range p.Entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"account":`...)
		b = appendPlain(b, e.Account, ok)
		b = append(b, `,"type":`...)
		b = appendPlain(b, e.Type, ok)
		b = append(b, `,"amount":`...)
		b = appendPlain(b, e.Amount, ok)
		b = append(b, `,"balance":`...)
		b = appendPlain(b, e.Balance, ok)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// appendCanonicalTransfer writes a transfer's fields, leaving its object
// open for the fields that follow them (entries, or the rejection's code).
func appendCanonicalTransfer(b []byte, t *Transfer, ok *bool) []byte {
	b = append(b, `{"id":`...)
	b = appendPlain(b, t.ID, ok)
	b = append(b, `,"from":`...)
	b = appendPlain(b, t.From, ok)
	b = append(b, `,"to":`...)
	b = appendPlain(b, t.To, ok)
	b = append(b, `,"amount":`...)
	b = appendPlain(b, t.Amount, ok)
	if t.Asset != "" {
		b = append(b, `,"asset":`...)
		b = appendPlain(b, t.Asset, ok)
	}
	if t.Reference != "" {
		b = append(b, `,"reference":`...)
		b = appendPlain(b, t.Reference, ok)
	}
	b = appendCanonicalMetadata(b, t.Metadata, ok)
	if t.Memo {
		b = append(b, `,"memo":true`...)
	}
	if t.ExchangeRate != "" || t.Pending || t.ExpiresAt != "" || t.Reverses != "" {
		*ok = false // rare (a rejected conversion, hold or reversal): encoding/json writes it
	}
	return b
}

// appendCanonicalMetadata writes m's pairs in key order, as encoding/json
// does, or nothing when m is empty (the field is omitempty).
func appendCanonicalMetadata(b []byte, m map[string]string, ok *bool) []byte {
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
		b = appendPlain(b, k, ok)
		b = append(b, ':')
		b = appendPlain(b, m[k], ok)
	}
	return append(b, '}')
}

// appendPlain writes s quoted, and clears *ok when encoding/json would
// escape s (the caller then discards what was written and leaves the event
// to encoding/json). It is kept small enough to be inlined at each call.
func appendPlain(b []byte, s string, ok *bool) []byte {
	if !plain(s) {
		*ok = false
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
