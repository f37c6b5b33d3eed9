package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-ledger/ledger/domain"
)

// The reply message is text, one line per part, so that the API reads a
// thousand results without encoding/json walking a thousand events (it
// was 15% of the process's CPU under batch load):
//
//	{"v":1,"id":"<envelope id>","n":<results>}
//	P                     a posted transfer; its journal line follows
//	<event journal line>
//	{"outcome":"rejected","code":"insufficient_funds","detail":"...","seq":7}
//	<event journal line>  only when the meta line has "event":true
//
// A posted result, by far the commonest, is the letter P and the event's
// journal line, exactly as in the journal; its sequence is the event's.
// Every other outcome is a small JSON meta line. Event lines are decoded
// with domain.DecodeEvent.

// maxReplyResults bounds the results one reply may announce: a command
// carries at most MaxItemsPerCommand items, and a reply answers one.
const maxReplyResults = MaxItemsPerCommand

var errBadReply = errors.New("malformed reply")

// replyMetaRoom is the room reserved per result for its meta line: "P\n",
// or a short JSON object (a longer one grows the buffer, as it may).
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
	h, err := json.Marshal(replyHeader{Version: WireVersion, ID: r.ID, N: len(r.Results)})
	if err != nil {
		return dst, fmt.Errorf("encode reply: %w", err)
	}
	if line != nil {
		// Room for the whole reply at once: growing it line by line was
		// the processor's largest allocation under load.
		size := len(h) + 1
		for i := range r.Results {
			size += replyMetaRoom
			if ev := r.Results[i].Event; ev != nil {
				size += len(line(ev)) + 1
			}
		}
		dst = slices.Grow(dst, size)
	}
	dst = append(append(dst, h...), '\n')
	for i := range r.Results {
		res := &r.Results[i]
		if res.Outcome == OutcomePosted && res.Event != nil && res.Seq == res.Event.Seq && res.Code == "" && res.Detail == "" {
			dst = append(dst, "P\n"...)
		} else {
			m, err := json.Marshal(replyMeta{Outcome: res.Outcome, Code: res.Code, Detail: res.Detail, Seq: res.Seq, Event: res.Event != nil})
			if err != nil {
				return dst, fmt.Errorf("encode reply: %w", err)
			}
			dst = append(append(dst, m...), '\n')
		}
		if res.Event == nil {
			continue
		}
		if dst, err = appendEventLine(dst, res.Event, line); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func appendEventLine(dst []byte, ev *domain.Event, line func(*domain.Event) []byte) ([]byte, error) {
	if line != nil {
		if l := line(ev); l != nil {
			return append(append(dst, l...), '\n'), nil
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
	if saved != "" && ev.Hash != saved {
		return dst, fmt.Errorf("encode reply: event %d re-encodes to another hash", ev.Seq)
	}
	return dst, nil
}

// DecodeReply parses a reply message.
func DecodeReply(data []byte) (Reply, error) {
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
