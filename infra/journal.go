package infra

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
)

// JetStream error codes for a refused expected-last-sequence publish.
// Servers before 2.11 answer 10071; later ones 10164 in some paths.
const (
	errCodeWrongLastSequence         = 10071
	errCodeWrongLastSequenceConstant = 10164
)

// appendStallTimeout bounds the wait for each record's acknowledgement
// after the previous one's. When the server leading the journal stream
// dies, or the connection moves to another server, the acknowledgements
// of records in flight never come; the processor should learn it in
// seconds, not at the whole append's timeout (30 s), and rebuild from the
// journal, which tells what was stored. A record is acknowledged in
// milliseconds; an fsync of a 1 MiB record in well under a second.
const appendStallTimeout = 5 * time.Second

// Journal appends and replays records on the journal stream.
type Journal struct {
	js    jetstream.JetStream
	names journalio.Names
}

var _ commands.Journal = (*Journal)(nil)

// NewJournal returns the journal of the ledger n names.
func NewJournal(js jetstream.JetStream, n journalio.Names) *Journal {
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
		msg.Header.Set(journalio.HeaderFirstSeq, strconv.FormatUint(r.FirstSeq, 10))
		msg.Header.Set(journalio.HeaderLastSeq, strconv.FormatUint(r.LastSeq, 10))
		msg.Header.Set(journalio.HeaderFormat, journalio.RecordFormat)
		if r.Trace != "" {
			msg.Header[journalio.HeaderTrace] = []string{r.Trace}
		}
		f, err := j.js.PublishMsgAsync(msg, jetstream.WithExpectLastSequence(expect), jetstream.WithExpectStream(j.names.JournalStream))
		if err != nil {
			return 0, fmt.Errorf("publish record %d-%d: %w", r.FirstSeq, r.LastSeq, err)
		}
		futures = append(futures, f)
		expect++
	}
	want := after
	stall := time.NewTimer(appendStallTimeout)
	defer stall.Stop()
	for _, f := range futures {
		want++
		stall.Reset(appendStallTimeout)
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
		case <-stall.C:
			return 0, fmt.Errorf("journal append: no acknowledgement of record %d for %v", want, appendStallTimeout)
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
	return journalio.ReadJournal(ctx, j.js, j.names, 1, fn)
}

// ReplayFrom is Replay from position from on.
func (j *Journal) ReplayFrom(ctx context.Context, from uint64, fn func(domain.Record) error) (uint64, error) {
	return journalio.ReadJournal(ctx, j.js, j.names, max(from, 1), fn)
}
