package subscriber

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
)

// record is one decoded journal record.
type record struct {
	position uint64
	events   []Event
}

// ErrCorrupt means a record does not decode as the journal's contract
// says: the subscriber stops rather than skip or misread events.
var ErrCorrupt = errors.New("corrupt journal record")

// take reads the record behind m, a message of the session: the journal
// consumer's checks of its headers (see journalio.Subscription.Take), then
// every event. It also returns the JetStream message, to mark the record
// in progress while it is handled.
func (sess *session) take(m *message.Message) (record, jetstream.Msg, error) {
	r, jm, err := sess.Take(m)
	if err != nil {
		return record{}, nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	rec, err := decodeRecord(r)
	return rec, jm, err
}

// decodeRecord checks a record's lines against its headers and decodes
// every event. Unknown fields are allowed, so that a consumer built
// against one schema version reads the next compatible one.
func decodeRecord(r domain.Record) (record, error) {
	pos, first, last, typ, data := r.Position, r.FirstSeq, r.LastSeq, r.Type, r.Data
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
