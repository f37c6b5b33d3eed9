// Package journaltest writes real journals for the tests of the packages
// that read them (audit, projections, subscriber): decided by
// domain.State, packed by commands.EncodeRecords and appended by
// infra.Journal on an in-process JetStream (infra/natstest), batch after
// batch on a clock of whole minutes. It holds the commands and the
// scenarios those tests share.
//
// It is the journal-level fixture; the whole-ledger fixture, with the
// processor and the API, is its parent package ledgertest.
package journaltest

import (
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/natstest"
)

// Epoch is when a journal starts unless New is given another clock: its
// batch n is stamped Epoch + n minutes.
var Epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Minutes returns the clock of a journal starting at epoch: minute n is
// epoch + n minutes.
func Minutes(epoch time.Time) func(n int) time.Time {
	return func(n int) time.Time { return epoch.Add(time.Duration(n) * time.Minute) }
}

// Minute is the default clock: Epoch + n minutes.
func Minute(n int) time.Time { return Minutes(Epoch)(n) }

// Journal is a real journal on its own in-process JetStream, written the
// way the processor writes it.
type Journal struct {
	*natstest.Server // NC, JS, Names

	T testing.TB // failures are reported on it
	// W writes the journal; tests use it for a batch at a time of their
	// choosing, which Events and Log then do not hold.
	W *natstest.Writer
	// Clock stamps the batches: batch n at Clock(n).
	Clock func(n int) time.Time
	// Now is the minute of the last batch (or of the last Idle minute);
	// the next batch is stamped Clock(Now+1).
	Now    int
	Events []*domain.Event // every event written by Batch, in order
	Log    []Batch         // every batch written by Batch, in order
}

// Batch is one batch of a journal as Journal.Batch wrote it.
type Batch struct {
	At     time.Time
	Seq    uint64          // the journal's last sequence after the batch
	Events []*domain.Event // the batch's events, a CommandSkipped when none changed anything
}

// Option changes a journal New makes.
type Option func(*Journal)

// WithClock stamps the journal's batches by clock (see Minutes).
func WithClock(clock func(n int) time.Time) Option {
	return func(j *Journal) { j.Clock = clock }
}

// WithRecordEventsMax packs at most n events into one journal record, so
// that small journals still have records of several events (the
// processor's bound is 1,000).
func WithRecordEventsMax(n int) Option {
	return func(j *Journal) { j.W.MaxRecordEvents = n }
}

// New starts a JetStream server on a new directory of the test and returns
// an empty journal on it; the server stops at the end of the test.
func New(t testing.TB, opts ...Option) *Journal {
	t.Helper()
	srv := natstest.Start(t, t.TempDir())
	j := &Journal{Server: srv, T: t, W: srv.Writer(), Clock: Minute}
	for _, o := range opts {
		o(j)
	}
	return j
}

// Batch decides cmds as one processor batch stamped at the next minute,
// appends the resulting events (one record per run of a type, as the
// processor does) and returns the decisions.
func (j *Journal) Batch(cmds ...domain.Command) []domain.Decision {
	j.T.Helper()
	j.Now++
	at := j.Clock(j.Now)
	out, events := j.W.Batch(j.T, at, cmds...)
	j.Events = append(j.Events, events...)
	j.Log = append(j.Log, Batch{At: at, Seq: j.W.State.Seq(), Events: events})
	return out
}

// Idle lets a minute pass without a batch.
func (j *Journal) Idle() { j.Now++ }

// Seq is the journal's last sequence.
func (j *Journal) Seq() uint64 { return j.W.State.Seq() }

// HashAt returns the stored journal hash of event seq, which Batch wrote;
// the test fails when there is none.
func (j *Journal) HashAt(seq uint64) string {
	j.T.Helper()
	for _, ev := range j.Events {
		if ev.Seq == seq && ev.Hash != "" {
			return ev.Hash
		}
	}
	j.T.Fatalf("the journal has no hashed event %d", seq)
	return ""
}
