// Package natstest starts a real embedded JetStream server for tests: the
// same server the product embeds, storing in a directory the test owns.
package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/journalio"
)

// Server is a running test server with the ledger's streams created.
type Server struct {
	NC    *nats.Conn
	JS    jetstream.JetStream
	Names journalio.Names
	stop  func()
}

// Start runs a server storing in dir (use t.TempDir(), or the same dir
// again to test a restart) and creates the ledger's streams. The server
// stops at the end of the test, or earlier with Stop.
func Start(t testing.TB, dir string) *Server {
	t.Helper()
	_, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dir})
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		stop()
		t.Fatalf("jetstream: %v", err)
	}
	names := journalio.NamesFor("test")
	if err := infra.EnsureStreams(context.Background(), js, names); err != nil {
		stop()
		t.Fatalf("streams: %v", err)
	}
	s := &Server{NC: nc, JS: js, Names: names, stop: stop}
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down; it is safe to call twice.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

// Writer writes a journal the way the processor does: decided by
// domain.State, packed by commands.EncodeRecords, appended by infra.Journal
// with the processor's fencing. Tests use it to build real journals.
type Writer struct {
	State    *domain.State
	Position uint64      // journal position of the last record written
	Last     domain.Hash // hash of the last event written
	// MaxRecordEvents bounds the events per record (default 1,000, as the
	// processor); tests lower it to get records of several kinds.
	MaxRecordEvents int

	journal *infra.Journal
	js      jetstream.JetStream
	names   journalio.Names
	cmdSeq  uint64
}

// Writer returns a writer for an empty journal on s.
func (s *Server) Writer() *Writer {
	return &Writer{State: domain.NewState(), journal: infra.NewJournal(s.JS, s.Names), js: s.JS, names: s.Names, MaxRecordEvents: 1_000}
}

// Batch decides cmds as one processor batch stamped now (each a command
// item of a new command message), appends the events (a CommandSkipped
// when none of them changed anything), and returns the decisions and the
// events appended.
func (w *Writer) Batch(t testing.TB, now time.Time, cmds ...domain.Command) ([]domain.Decision, []*domain.Event) {
	t.Helper()
	w.cmdSeq++
	// As the processor does before a batch's first command: the holds
	// expired by its clock are voided first (commands/expiry.go).
	events := w.State.ExpireHolds(now)
	expired := len(events)
	out := make([]domain.Decision, 0, len(cmds))
	for i, c := range cmds {
		c.Ref = domain.CommandRef{Seq: w.cmdSeq, Item: i}
		d := w.State.Decide(c, now)
		if d.Event != nil {
			events = append(events, d.Event)
		}
		out = append(out, d)
	}
	if len(events) == expired {
		// As the processor does: a message that changed nothing is
		// journaled as skipped.
		events = append(events, w.State.Skip(w.cmdSeq, len(cmds), domain.SkipUnchanged, "", now))
	}
	records, last, err := commands.EncodeRecords(events, w.Last, w.MaxRecordEvents, 1<<20)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	pos, err := w.journal.Append(context.Background(), records, w.Position)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	w.Last, w.Position = last, pos
	w.commandsDecided(t)
	return out, events
}

// commandsDecided moves the commands stream on past the command messages
// the writer has decided, as if they had been published and acknowledged:
// the stream's sequences continue after the journal's last decided
// command, as the processor's do, so the audit's commands check holds.
func (w *Writer) commandsDecided(t testing.TB) {
	t.Helper()
	stream, err := w.js.Stream(context.Background(), w.names.CommandsStream)
	if err != nil {
		t.Fatalf("commands stream: %v", err)
	}
	if err := stream.Purge(context.Background(), jetstream.WithPurgeSequence(w.cmdSeq+1)); err != nil {
		t.Fatalf("commands stream: %v", err)
	}
}
