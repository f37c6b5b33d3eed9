package subscriber

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
)

// Metadata keys recordUnmarshaler sets on a record's watermill message.
const (
	recPosition = "record_position"
	recFirstSeq = "record_first_seq"
	recLastSeq  = "record_last_seq"
	recType     = "record_type"
	recError    = "record_error"
)

// recordUnmarshaler turns a journal message into a watermill message whose
// payload is the record and whose metadata carries its position and
// sequences. It never returns a nil message (watermill-nats delivers it
// anyway after logging the error), so a malformed record also gets
// recError. It keeps each JetStream message so that a record being handled
// for long can be marked in progress; one unmarshaler serves one session.
type recordUnmarshaler struct {
	held sync.Map // *message.Message -> jetstream.Msg
}

func (u *recordUnmarshaler) Unmarshal(msg jetstream.Msg) (*message.Message, error) {
	var pos uint64
	meta, err := msg.Metadata()
	if err == nil {
		pos = meta.Sequence.Stream
	}
	m := message.NewMessage("record-"+strconv.FormatUint(pos, 10), msg.Data())
	subj := msg.Subject()
	h := msg.Headers()
	m.Metadata.Set(recPosition, strconv.FormatUint(pos, 10))
	m.Metadata.Set(recFirstSeq, h.Get(HeaderFirstSeq))
	m.Metadata.Set(recLastSeq, h.Get(HeaderLastSeq))
	m.Metadata.Set(recType, subj[strings.LastIndexByte(subj, '.')+1:])
	if err == nil && h.Get(HeaderFormat) != RecordFormat {
		err = fmt.Errorf("journal record %d has format %q, want %q: %w", pos, h.Get(HeaderFormat), RecordFormat, ErrNotJournal)
	}
	if err != nil {
		m.Metadata.Set(recError, err.Error())
	}
	u.held.Store(m, msg)
	return m, err
}

// take returns the JetStream message behind m and forgets it.
func (u *recordUnmarshaler) take(m *message.Message) (jetstream.Msg, bool) {
	v, ok := u.held.LoadAndDelete(m)
	if !ok {
		return nil, false
	}
	jm, ok := v.(jetstream.Msg)
	return jm, ok
}

// record is one decoded journal record.
type record struct {
	position uint64
	events   []Event
}

// ErrCorrupt means a record does not decode as the journal's contract
// says: the subscriber stops rather than skip or misread events.
var ErrCorrupt = errors.New("corrupt journal record")

// decodeRecord checks a record's headers against its lines and decodes
// every event. Unknown fields are allowed, so that a consumer built
// against one schema version reads the next compatible one.
func decodeRecord(m *message.Message) (record, error) {
	md := m.Metadata
	if e := md.Get(recError); e != "" {
		return record{}, fmt.Errorf("%w: %s", ErrCorrupt, e)
	}
	pos, err1 := strconv.ParseUint(md.Get(recPosition), 10, 64)
	first, err2 := strconv.ParseUint(md.Get(recFirstSeq), 10, 64)
	last, err3 := strconv.ParseUint(md.Get(recLastSeq), 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || pos == 0 || first == 0 || last < first {
		return record{}, fmt.Errorf("%w: record %q: bad sequence headers %q-%q", ErrCorrupt, md.Get(recPosition), md.Get(recFirstSeq), md.Get(recLastSeq))
	}
	typ := domain.EventType(md.Get(recType))
	data := m.Payload
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return record{}, fmt.Errorf("%w: record %d does not end with a newline", ErrCorrupt, pos)
	}
	lines := bytes.Split(data[:len(data)-1], []byte{'\n'})
	if uint64(len(lines)) != last-first+1 {
		return record{}, fmt.Errorf("%w: record %d has %d events for sequences %d-%d", ErrCorrupt, pos, len(lines), first, last)
	}
	rec := record{position: pos, events: make([]Event, len(lines))}
	for i, line := range lines {
		var ev domain.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return record{}, fmt.Errorf("%w: record %d line %d: %v", ErrCorrupt, pos, i, err)
		}
		if ev.Seq != first+uint64(i) || ev.Type != typ {
			return record{}, fmt.Errorf("%w: record %d (%s %d-%d) holds %s %d at index %d", ErrCorrupt, pos, typ, first, last, ev.Type, ev.Seq, i)
		}
		rec.events[i] = Event{Seq: ev.Seq, Type: ev.Type, Line: line, Event: &ev, Position: pos}
	}
	return rec, nil
}
