package commands

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// ErrFenced means the journal refused an append because its last sequence
// was not the one this writer expected: another writer appended in the
// meantime, and this processor's state is stale.
var ErrFenced = errors.New("journal append fenced: another writer appended first")

// Journal is the append-only store of events.
type Journal interface {
	// Append stores records in order, each only if the journal's last
	// position is the one expected: afterPosition for the first record,
	// the previous record's position for the next. It returns the position
	// of the last record stored. It returns ErrFenced (wrapped) when the
	// journal had moved on; any other error leaves it unknown how many of
	// the records were stored, and the caller must rebuild from the journal.
	Append(ctx context.Context, records []domain.Record, afterPosition uint64) (uint64, error)
	// Replay calls fn with every record from the start, in order, up to the
	// journal's end at the time of the call, and returns the last position
	// read (0 for an empty journal). An error from fn stops the replay and
	// is returned.
	Replay(ctx context.Context, fn func(domain.Record) error) (uint64, error)
	// ReplayFrom is Replay starting at position from: the start-up after a
	// snapshot reads only the journal's tail. When the journal ends before
	// from, fn is not called and the last position is returned.
	ReplayFrom(ctx context.Context, from uint64, fn func(domain.Record) error) (uint64, error)
}

// SnapshotStore keeps the processor's snapshots (see snapshot.go), named
// by the ledger sequence they were taken at.
type SnapshotStore interface {
	// Save stores everything read from r, to EOF, as the snapshot at
	// sequence seq, replacing any snapshot at seq. A snapshot is listed
	// only once it is completely stored: a Save that fails or is cancelled
	// leaves no partial snapshot behind.
	Save(ctx context.Context, seq uint64, r io.Reader) error
	// List returns the stored snapshots, newest (highest sequence) first.
	List(ctx context.Context) ([]SnapshotInfo, error)
	// Load returns the snapshot at seq whole. It refuses, without reading
	// it, a snapshot larger than maxBytes.
	Load(ctx context.Context, seq uint64, maxBytes int64) ([]byte, error)
	// Delete removes the snapshot at seq.
	Delete(ctx context.Context, seq uint64) error
}

// SnapshotInfo describes a stored snapshot.
type SnapshotInfo struct {
	Seq   uint64 // ledger sequence it was taken at
	Size  int64  // bytes
	Taken time.Time
}

// CommandMessage is one message from the commands stream.
type CommandMessage struct {
	Seq  uint64 // position in the commands stream
	Data []byte
	Ack  func() error // acknowledges this message and every earlier one
	// Trace holds the W3C traceparents of the requests in the message,
	// from its headers; nil when they were sent with tracing off.
	Trace []string
}

// CommandSource delivers command messages in stream order.
type CommandSource interface {
	// Next blocks until at least one message is available or ctx ends,
	// then returns the available ones, at most max. Messages that are not
	// acknowledged are delivered again after a timeout.
	Next(ctx context.Context, max int) ([]CommandMessage, error)
	// Rewind drops whatever was delivered but not acknowledged and makes
	// delivery start again, in order, from the first unacknowledged
	// message, and reports where the stream and the acknowledgements
	// stand. The processor calls it after every rebuild and after a gap in
	// the sequences delivered, so that no command is skipped or seen out
	// of order after a failure.
	Rewind(ctx context.Context) (CommandsState, error)
	// Stored reports whether the message at seq is in the stream.
	Stored(ctx context.Context, seq uint64) (bool, error)
	// Stop ends delivery until the next Rewind, and drops what was
	// delivered and not acknowledged (the server delivers it again after
	// a Rewind). A processor that loses its lease stops at once. It may be
	// called from any goroutine, and more than once.
	Stop()
}

// CommandsState is where the commands stream stands after a Rewind.
type CommandsState struct {
	// AckFloor is the last message of the acknowledged prefix: it and
	// every message before it were acknowledged.
	AckFloor uint64
	// First and Last are the stream's first and last sequences; an empty
	// stream has First = Last+1.
	First, Last uint64
	// Msgs is the number of messages stored.
	Msgs uint64
}

// Errors of a commands stream that does not fit the journal. Both stop
// the processor: deciding on would lose or misread accepted commands.
var (
	// ErrCommandsLost means commands that no event answers are no longer
	// in the stream: they were deleted or expired before being decided.
	ErrCommandsLost = errors.New("undecided commands are missing from the commands stream")
	// ErrCommandsRenumbered means the stream's sequences restarted below
	// the journal's last decided command (the stream was recreated): new
	// commands would be taken for decided ones.
	ErrCommandsRenumbered = errors.New("the commands stream was recreated below the journal's last decided command")
)

// Notifier tells a waiting API instance the results of its command. It is
// best effort: a lost notice makes the API answer 202 with a Location,
// never a wrong answer, because the journal already holds the outcome.
type Notifier interface {
	Notify(subject string, reply []byte) error
}

// LocalReplier is implemented by a Notifier that can hand a reply to an
// API instance of the same process as a value, neither encoded nor sent
// through the NATS server. DeliverLocal reports whether subject is such an
// instance's (and the reply was handed over); it never blocks. The reply
// and its events must not be changed afterwards.
type LocalReplier interface {
	DeliverLocal(subject string, r Reply) bool
}

// Submitter appends requests to the commands stream for the processor
// and, when asked to wait, returns its results in item order. The API
// uses it; infra implements it. Its errors:
//   - ErrNoAnswer: stored, and the outcome did not arrive before ctx ended;
//     it will be decided.
//   - ErrCommandsFull: refused, the commands stream is at its limit; not
//     stored.
//   - ErrNotStored: given up before it was stored; not stored.
//   - ErrMaybeStored: sent, and JetStream did not confirm it in time; it
//     may be stored (and then decided) or not.
//
// After any of them a retry with the same ids is safe: an id is decided
// once.
type Submitter interface {
	Submit(ctx context.Context, items []Item, wait bool) ([]Result, error)
}

// Errors of Submitter.
var (
	ErrNoAnswer     = errors.New("command accepted; outcome not known yet")
	ErrCommandsFull = errors.New("commands stream is full")
	ErrNotStored    = errors.New("request not stored")
	ErrMaybeStored  = errors.New("command sent; not known whether it was stored")
)

// Observer is told what the processor decides, for metrics. Its methods
// are called on the processor's goroutine (Snapshot on the snapshot
// writer's) and must not block.
type Observer interface {
	// Transfer is told each transfer item decided for the first time,
	// once its batch is journaled: its outcome and, for a rejection, its
	// code.
	Transfer(outcome Outcome, code domain.Code)
	// Batch is told each batch decided and journaled: its command
	// messages, its events and the time taken to decide them.
	Batch(messages, events int, decide time.Duration)
	// Snapshot is told each snapshot saved: the time it took and when.
	Snapshot(elapsed time.Duration, at time.Time)
}

// nopObserver is the Observer when Config.Observer is nil.
type nopObserver struct{}

func (nopObserver) Transfer(Outcome, domain.Code)     {}
func (nopObserver) Batch(int, int, time.Duration)     {}
func (nopObserver) Snapshot(time.Duration, time.Time) {}
