package journalio

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
)

// Headers of a journal record. The body is the events, one per line.
const (
	HeaderFirstSeq = "Ledger-First-Seq"
	HeaderLastSeq  = "Ledger-Last-Seq"
	HeaderFormat   = "Ledger-Format"
	// HeaderTrace is the W3C traceparent of the processor's span that
	// wrote the record, present only when tracing is on. It is not part
	// of the hash chain (headers never are) and readers may ignore it.
	HeaderTrace = "traceparent"
	// RecordFormat names the record encoding: JSON lines, each event
	// hash-chained as domain.AppendEvent documents.
	RecordFormat = "jsonl-v1"
)

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

// replayPrefetchBytes bounds the records buffered ahead of a reader: by
// size, not count, since a record may hold one event or a thousand (about
// 1 MiB), and a prefetch of hundreds of large records would overflow the
// connection's pending limit, drop messages and make the ordered consumer
// start over.
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
	rec.Trace = h.Get(HeaderTrace)
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
