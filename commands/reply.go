package commands

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-ledger/ledger/domain"
)

// The reply message is binary (ADR 0015): a version byte
// (EnvelopeBinaryVersion), the envelope's id and the number of results,
// then each result:
//
//	'P' <event journal line>    a posted transfer, its sequence the event's
//	'M' outcome code detail seq(uvarint) hasEvent(byte) [<event journal line>]
//
// with strings and lines as a uvarint length and their bytes. A posted
// result, by far the commonest, is one byte and the event's journal line,
// copied as the processor wrote it; lines are decoded with
// domain.DecodeEvent. The text form of version 1 (a JSON header line, then
// "P" or a JSON meta line per result, each followed by its event line) is
// still decoded, from a processor of an earlier version.

// maxReplyResults bounds the results one reply may announce: a command
// carries at most MaxItemsPerCommand items, and a reply answers one.
const maxReplyResults = MaxItemsPerCommand

var errBadReply = errors.New("malformed reply")

// replyMetaRoom is the room reserved per result besides its event line:
// its tag and the line's length, or a short meta part (a longer one grows
// the buffer, as it may).
const replyMetaRoom = 64

type replyHeader struct {
	Version int    `json:"v"`
	ID      string `json:"id"`
	N       int    `json:"n"`
}

type replyMeta struct {
	Outcome Outcome     `json:"outcome"`
	Code    domain.Code `json:"code,omitempty"`
	Detail  string      `json:"detail,omitempty"`
	Seq     uint64      `json:"seq,omitempty"`
	Event   bool        `json:"event,omitempty"`
}

// EncodeReply appends the reply message to dst. line returns the journal
// line (without its '\n') of each result's event: the processor has just
// written them, so they are copied, not encoded again. A line of nil makes
// it encode the event with domain.AppendEvent from the event's own hashes.
func EncodeReply(dst []byte, r *Reply, line func(*domain.Event) []byte) ([]byte, error) {
	if line != nil {
		// Room for the whole reply at once: growing it line by line was
		// the processor's largest allocation under load.
		size := 1 + binary.MaxVarintLen64*2 + len(r.ID)
		for i := range r.Results {
			size += replyMetaRoom
			if ev := r.Results[i].Event; ev != nil {
				size += len(line(ev)) + binary.MaxVarintLen64
			}
		}
		dst = slices.Grow(dst, size)
	}
	dst = append(dst, EnvelopeBinaryVersion)
	dst = appendString(dst, r.ID)
	dst = binary.AppendUvarint(dst, uint64(len(r.Results)))
	for i := range r.Results {
		res := &r.Results[i]
		if res.Outcome == OutcomePosted && res.Event != nil && res.Seq == res.Event.Seq && res.Code == "" && res.Detail == "" {
			dst = append(dst, 'P')
		} else {
			dst = appendStrings(append(dst, 'M'), string(res.Outcome), string(res.Code), res.Detail)
			dst = binary.AppendUvarint(dst, res.Seq)
			if res.Event == nil {
				dst = append(dst, 0)
				continue
			}
			dst = append(dst, 1)
		}
		// The line's length is written once it is known.
		at := len(dst)
		dst = append(dst, make([]byte, binary.MaxVarintLen64)...)
		var err error
		if dst, err = appendEventLine(dst, res.Event, line); err != nil {
			return dst, err
		}
		dst = placeLength(dst, at)
	}
	return dst, nil
}

// placeLength writes, at dst[at:], the uvarint length of what follows the
// MaxVarintLen64 bytes reserved there, and closes the gap.
func placeLength(dst []byte, at int) []byte {
	body := at + binary.MaxVarintLen64
	n := len(dst) - body
	var lenBuf [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(lenBuf[:], uint64(n))
	copy(dst[at:], lenBuf[:k])
	copy(dst[at+k:], dst[body:])
	return dst[:at+k+n]
}

func appendEventLine(dst []byte, ev *domain.Event, line func(*domain.Event) []byte) ([]byte, error) {
	if line != nil {
		if l := line(ev); l != nil {
			return append(dst, l...), nil
		}
	}
	prev, err := domain.ParseHash(ev.PrevHash)
	if err != nil {
		return dst, fmt.Errorf("encode reply: event %d: %w", ev.Seq, err)
	}
	saved := ev.Hash
	dst, _, err = domain.AppendEvent(dst, ev, prev)
	if err != nil {
		return dst, fmt.Errorf("encode reply: %w", err)
	}
	dst = bytes.TrimSuffix(dst, []byte{'\n'}) // the line alone, as the journal's
	if saved != "" && ev.Hash != saved {
		return dst, fmt.Errorf("encode reply: event %d re-encodes to another hash", ev.Seq)
	}
	return dst, nil
}

// DecodeReply parses a reply message, binary or of version 1 (text).
func DecodeReply(data []byte) (Reply, error) {
	if len(data) > 0 && data[0] == EnvelopeBinaryVersion {
		return decodeBinaryReply(data)
	}
	return decodeTextReply(data)
}

// decodeBinaryReply parses a binary reply; every count and length is
// checked against the bytes left before anything is allocated.
func decodeBinaryReply(data []byte) (Reply, error) {
	rd := &binReader{b: data[1:]}
	r := Reply{ID: rd.string()}
	// A result is at least 2 bytes: its tag and a length.
	r.Results = make([]Result, rd.count(2, maxReplyResults))
	for i := range r.Results {
		res := &r.Results[i]
		withEvent := true
		switch tag := rd.byte(); tag {
		case 'P':
			res.Outcome = OutcomePosted
		case 'M':
			res.Outcome, res.Code, res.Detail = Outcome(rd.string()), domain.Code(rd.string()), rd.string()
			res.Seq = rd.uvarint()
			switch has := rd.byte(); has {
			case 0:
				withEvent = false
			case 1:
			default:
				rd.fail(fmt.Errorf("result %d: event marker %d", i, has))
			}
		default:
			rd.fail(fmt.Errorf("result %d: tag %d", i, tag))
		}
		if !withEvent || rd.err != nil {
			continue
		}
		line := rd.bytes()
		if rd.err != nil {
			break
		}
		ev, err := domain.DecodeEvent(line)
		if err != nil {
			return r, fmt.Errorf("%w: result %d: %v", errBadReply, i, err)
		}
		res.Event = ev
		if res.Outcome == OutcomePosted && res.Seq == 0 {
			res.Seq = ev.Seq
		}
	}
	if rd.err == nil && len(rd.b) != 0 {
		rd.fail(fmt.Errorf("%d bytes after the last result", len(rd.b)))
	}
	if rd.err != nil {
		return r, fmt.Errorf("%w: %v", errBadReply, rd.err)
	}
	return r, nil
}

// decodeTextReply parses a reply of version 1.
func decodeTextReply(data []byte) (Reply, error) {
	var r Reply
	line, rest, ok := bytes.Cut(data, []byte{'\n'})
	if !ok {
		return r, fmt.Errorf("%w: no header", errBadReply)
	}
	var h replyHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return r, fmt.Errorf("%w: header: %v", errBadReply, err)
	}
	if h.Version != WireVersion {
		return r, fmt.Errorf("%w: version %d", errBadReply, h.Version)
	}
	if h.N < 0 || h.N > maxReplyResults {
		return r, fmt.Errorf("%w: %d results", errBadReply, h.N)
	}
	r.ID, r.Results = h.ID, make([]Result, h.N)
	next := func() ([]byte, bool) {
		line, rest, ok = bytes.Cut(rest, []byte{'\n'})
		return line, ok
	}
	for i := range r.Results {
		res := &r.Results[i]
		meta, ok := next()
		if !ok {
			return r, fmt.Errorf("%w: result %d missing", errBadReply, i)
		}
		withEvent := true
		if string(meta) == "P" {
			res.Outcome = OutcomePosted
		} else {
			var m replyMeta
			if err := json.Unmarshal(meta, &m); err != nil {
				return r, fmt.Errorf("%w: result %d: %v", errBadReply, i, err)
			}
			res.Outcome, res.Code, res.Detail, res.Seq, withEvent = m.Outcome, m.Code, m.Detail, m.Seq, m.Event
		}
		if !withEvent {
			continue
		}
		evLine, ok := next()
		if !ok {
			return r, fmt.Errorf("%w: result %d: event missing", errBadReply, i)
		}
		ev, err := domain.DecodeEvent(evLine)
		if err != nil {
			return r, fmt.Errorf("%w: result %d: %v", errBadReply, i, err)
		}
		res.Event = ev
		if res.Outcome == OutcomePosted && res.Seq == 0 {
			res.Seq = ev.Seq
		}
	}
	if len(rest) != 0 {
		return r, fmt.Errorf("%w: %d bytes after the last result", errBadReply, len(rest))
	}
	return r, nil
}
