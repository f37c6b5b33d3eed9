package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
)

// JetStreamSource reads the journal stream of a ledger.
type JetStreamSource struct {
	JS    jetstream.JetStream
	Names journalio.Names
	Label string // how reports name it, e.g. the NATS URL or the data directory
}

var _ Source = (*JetStreamSource)(nil)

// commandsStater is a source that can also tell where the ledger's
// commands stream stands, for the commands check.
type commandsStater interface {
	CommandsState(ctx context.Context) (*CommandsInfo, error)
}

var _ commandsStater = (*JetStreamSource)(nil)

// CommandsState reads the commands stream's state, or returns nil when
// the ledger has none (a journal copied alone): the stream is then not
// checked.
func (s *JetStreamSource) CommandsState(ctx context.Context) (*CommandsInfo, error) {
	info := &CommandsInfo{Stream: s.Names.CommandsStream}
	stream, err := s.JS.Stream(ctx, s.Names.CommandsStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("commands stream: %w", err)
	}
	st := stream.CachedInfo().State
	info.FirstSeq, info.LastSeq, info.Undecided = st.FirstSeq, st.LastSeq, st.Msgs
	return info, nil
}

func (s *JetStreamSource) String() string {
	if s.Label == "" {
		return s.Names.JournalStream
	}
	return s.Names.JournalStream + " at " + s.Label
}

// Read reads the journal's records from the one holding sequence from, to
// the journal's end when Read is called (see journalio.ReadJournal), each
// record a chunk.
func (s *JetStreamSource) Read(ctx context.Context, from uint64, fn func(Chunk) error) error {
	start := uint64(1)
	if from > 1 {
		var err error
		if start, err = s.positionOf(ctx, from); err != nil {
			return err
		}
	}
	_, err := journalio.ReadJournal(ctx, s.JS, s.Names, start, func(r domain.Record) error {
		c := Chunk{Position: r.Position, FirstSeq: r.FirstSeq, LastSeq: r.LastSeq, Type: r.Type}
		c.Lines, c.Err = domain.SplitRecord(r.Data)
		if c.Err != nil {
			c.Lines = nonEmptyLines(r.Data)
		}
		return fn(c)
	})
	return err
}

func nonEmptyLines(data []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(data, []byte{'\n'}) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// LastSeq returns the ledger sequence of the journal's last event (0 for
// an empty journal), from the last record's headers.
func (s *JetStreamSource) LastSeq(ctx context.Context) (uint64, error) {
	end, err := journalio.ReadJournalEnd(ctx, s.JS, s.Names)
	return end.Seq, err
}

// positionOf finds the record holding seq (journalio.RecordPosition). A
// record whose headers do not parse ends the search at the start: reading
// from 1 is always correct, only slower, and the audit names the record.
func (s *JetStreamSource) positionOf(ctx context.Context, seq uint64) (uint64, error) {
	stream, err := s.JS.Stream(ctx, s.Names.JournalStream)
	if err != nil {
		return 0, fmt.Errorf("journal stream: %w", err)
	}
	pos, err := journalio.RecordPosition(ctx, stream, seq)
	if errors.Is(err, journalio.ErrNotRecord) {
		return 1, nil
	}
	return pos, err
}
