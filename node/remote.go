package node

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/journalio"
)

// decisions is what the node reads, from memory, of the processor's
// progress: the processor itself on a node that runs one, and on a node
// without one (an API or projector node) what JetStream shows of the
// processor elsewhere (remoteDecisions).
type decisions interface {
	// Seq is the journal's last ledger sequence as known here.
	Seq() uint64
	// Decided is the stream sequence of the last command message decided.
	Decided() uint64
	// Ready reports whether a processor is deciding commands.
	Ready() bool
	// Head is the journal's last event; its hash is zero when unknown.
	Head() commands.Head
}

var _ decisions = (*commands.Processor)(nil)

// remotePollInterval is how often a node without a processor reads the
// journal's end and the processor's consumer: three JetStream requests,
// about a millisecond of the server's time. The figures it keeps are at
// most this old; admission and readiness tolerate that (they bound a lag
// of thousands of events, not of a quarter second).
const remotePollInterval = 250 * time.Millisecond

// remotePollTimeout bounds one poll.
const remotePollTimeout = 2 * time.Second

// remoteDecisions follows the processor of another node through
// JetStream: the journal's last record gives the last sequence and the
// last command decided; the processor's durable consumer shows whether a
// processor is pulling from it.
type remoteDecisions struct {
	js      jetstream.JetStream
	names   journalio.Names
	log     *slog.Logger
	seq     atomic.Uint64
	decided atomic.Uint64
	live    atomic.Bool
}

var _ decisions = (*remoteDecisions)(nil)

func newRemoteDecisions(ctx context.Context, js jetstream.JetStream, names journalio.Names, log *slog.Logger) (*remoteDecisions, error) {
	r := &remoteDecisions{js: js, names: names, log: log}
	return r, r.poll(ctx)
}

func (r *remoteDecisions) Seq() uint64     { return r.seq.Load() }
func (r *remoteDecisions) Decided() uint64 { return r.decided.Load() }
func (r *remoteDecisions) Ready() bool     { return r.live.Load() }

// Head has the sequence only: the hash is the processor's to vouch for.
func (r *remoteDecisions) Head() commands.Head { return commands.Head{Seq: r.seq.Load()} }

// poll reads the journal's end and the processor's consumer once.
func (r *remoteDecisions) poll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, remotePollTimeout)
	defer cancel()
	end, err := journalio.ReadJournalEnd(ctx, r.js, r.names)
	if err != nil {
		return err
	}
	raise(&r.seq, end.Seq)
	raise(&r.decided, end.Command)
	cons, err := r.js.Consumer(ctx, r.names.CommandsStream, r.names.ProcessorName)
	if err != nil {
		return err
	}
	info := cons.CachedInfo()
	// A processor pulls continuously: its pull requests wait at the
	// server, or it holds messages it has not acknowledged yet.
	r.live.Store(info.NumWaiting > 0 || info.NumAckPending > 0)
	raise(&r.decided, info.AckFloor.Stream)
	return nil
}

// run polls every remotePollInterval until ctx ends.
func (r *remoteDecisions) run(ctx context.Context) {
	t := time.NewTicker(remotePollInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := r.poll(ctx)
		if err != nil && !failing && ctx.Err() == nil {
			r.log.Warn("reading the journal's end and the processor's progress", "err", err)
		}
		failing = err != nil
		if failing {
			r.live.Store(false)
		}
	}
}

// raise lifts v to x: the journal and the decisions only grow.
func raise(v *atomic.Uint64, x uint64) {
	for {
		cur := v.Load()
		if x <= cur || v.CompareAndSwap(cur, x) {
			return
		}
	}
}
