package infra

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// Headers of a journal record. The body is the events, one per line.
const (
	HeaderFirstSeq = "Ledger-First-Seq"
	HeaderLastSeq  = "Ledger-Last-Seq"
	HeaderFormat   = "Ledger-Format"
	// RecordFormat names the record encoding: JSON lines, each event
	// hash-chained as domain.AppendEvent documents.
	RecordFormat = "jsonl-v1"
)

// JetStream error codes for a refused expected-last-sequence publish.
// Servers before 2.11 answer 10071; later ones 10164 in some paths.
const (
	errCodeWrongLastSequence         = 10071
	errCodeWrongLastSequenceConstant = 10164
)

// Journal appends and replays records on the journal stream.
type Journal struct {
	js    jetstream.JetStream
	names Names
}

var _ commands.Journal = (*Journal)(nil)

// NewJournal returns the journal of the ledger n names.
func NewJournal(js jetstream.JetStream, n Names) *Journal {
	return &Journal{js: js, names: n}
}

// Append publishes the records pipelined, each expecting the stream's last
// sequence to be the previous one's, so a second writer is refused by the
// server rather than interleaved.
func (j *Journal) Append(ctx context.Context, records []domain.Record, after uint64) (uint64, error) {
	futures := make([]jetstream.PubAckFuture, 0, len(records))
	expect := after
	for _, r := range records {
		msg := nats.NewMsg(j.names.EventSubject(string(r.Type)))
		msg.Data = r.Data
		msg.Header.Set(HeaderFirstSeq, strconv.FormatUint(r.FirstSeq, 10))
		msg.Header.Set(HeaderLastSeq, strconv.FormatUint(r.LastSeq, 10))
		msg.Header.Set(HeaderFormat, RecordFormat)
		f, err := j.js.PublishMsgAsync(msg, jetstream.WithExpectLastSequence(expect), jetstream.WithExpectStream(j.names.JournalStream))
		if err != nil {
			return 0, fmt.Errorf("publish record %d-%d: %w", r.FirstSeq, r.LastSeq, err)
		}
		futures = append(futures, f)
		expect++
	}
	want := after
	for _, f := range futures {
		want++
		select {
		case ack := <-f.Ok():
			// A duplicate or an unexpected position means the record is not
			// the one this writer believes it stored.
			if ack.Duplicate || ack.Sequence != want {
				return 0, fmt.Errorf("record stored at %d (duplicate %v), expected %d: %w", ack.Sequence, ack.Duplicate, want, commands.ErrFenced)
			}
		case err := <-f.Err():
			if isFenced(err) {
				return 0, fmt.Errorf("%w: %v", commands.ErrFenced, err)
			}
			return 0, fmt.Errorf("journal append: %w", err)
		case <-ctx.Done():
			return 0, fmt.Errorf("journal append: %w", ctx.Err())
		}
	}
	return want, nil
}

func isFenced(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == errCodeWrongLastSequence || apiErr.ErrorCode == errCodeWrongLastSequenceConstant
	}
	return false
}

// Replay reads the journal from the start to its end at the time of the
// call with an ordered consumer, which the server delivers in order with
// flow control.
func (j *Journal) Replay(ctx context.Context, fn func(domain.Record) error) (uint64, error) {
	return ReadJournal(ctx, j.js, j.names, 1, fn)
}

// ReplayFrom is Replay from position from on.
func (j *Journal) ReplayFrom(ctx context.Context, from uint64, fn func(domain.Record) error) (uint64, error) {
	return ReadJournal(ctx, j.js, j.names, max(from, 1), fn)
}

// ReadJournal calls fn with every record from position from to the end of
// the journal as it stands when called, and returns the last position read.
func ReadJournal(ctx context.Context, js jetstream.JetStream, n Names, from uint64, fn func(domain.Record) error) (uint64, error) {
	stream, err := js.Stream(ctx, n.JournalStream)
	if err != nil {
		return 0, fmt.Errorf("journal stream: %w", err)
	}
	last := stream.CachedInfo().State.LastSeq
	if last < from {
		return last, nil
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from,
	})
	if err != nil {
		return 0, fmt.Errorf("journal reader: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxBytes(replayPrefetchBytes))
	if err != nil {
		return 0, fmt.Errorf("journal reader: %w", err)
	}
	defer it.Stop()
	stopOnCancel := context.AfterFunc(ctx, it.Stop)
	defer stopOnCancel()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("read journal: %w", err)
		}
		rec, err := RecordOf(msg)
		if err != nil {
			return 0, err
		}
		if err := fn(rec); err != nil {
			return 0, err
		}
		if rec.Position >= last {
			return rec.Position, nil
		}
	}
}

// replayPrefetchBytes bounds the records buffered ahead of a replay: by
// size, not count, since a record may hold one event or a thousand.
const replayPrefetchBytes = 8 << 20

// RecordOf reads a journal message into a record.
func RecordOf(msg jetstream.Msg) (domain.Record, error) {
	meta, err := msg.Metadata()
	if err != nil {
		return domain.Record{}, fmt.Errorf("journal message metadata: %w", err)
	}
	subj := msg.Subject()
	rec := domain.Record{
		Type:     domain.EventType(subj[strings.LastIndexByte(subj, '.')+1:]),
		Data:     msg.Data(),
		Position: meta.Sequence.Stream,
	}
	h := msg.Headers()
	rec.FirstSeq, _ = strconv.ParseUint(h.Get(HeaderFirstSeq), 10, 64)
	rec.LastSeq, _ = strconv.ParseUint(h.Get(HeaderLastSeq), 10, 64)
	if f := h.Get(HeaderFormat); f != RecordFormat {
		return rec, fmt.Errorf("journal record %d has format %q, want %q", rec.Position, f, RecordFormat)
	}
	return rec, nil
}

// JournalEnd is where the journal ends: the last event's ledger sequence
// and the command message it answers (commands are decided in order, so
// it is the last one decided). Both are 0 for an empty journal.
type JournalEnd struct {
	Seq     uint64
	Command uint64
}

// ReadJournalEnd reads the journal's last record: where the journal ends,
// whatever the processor is doing.
func ReadJournalEnd(ctx context.Context, js jetstream.JetStream, n Names) (JournalEnd, error) {
	stream, err := js.Stream(ctx, n.JournalStream)
	if err != nil {
		return JournalEnd{}, fmt.Errorf("journal stream: %w", err)
	}
	last := stream.CachedInfo().State.LastSeq
	if last == 0 {
		return JournalEnd{}, nil
	}
	msg, err := stream.GetMsg(ctx, last)
	if err != nil {
		return JournalEnd{}, fmt.Errorf("journal record %d: %w", last, err)
	}
	lines, err := domain.SplitRecord(msg.Data)
	if err != nil {
		return JournalEnd{}, fmt.Errorf("journal record %d: %w", last, err)
	}
	ev, err := domain.DecodeEvent(lines[len(lines)-1])
	if err != nil {
		return JournalEnd{}, fmt.Errorf("journal record %d: %w", last, err)
	}
	return JournalEnd{Seq: ev.Seq, Command: ev.Command.Seq}, nil
}
