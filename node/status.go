package node

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
)

// restored reports whether every command stored before the start is
// decided, and the journal sequence covering their decisions.
func (n *Node) restored() (uint64, bool) {
	return n.restore.restored(n.dec.Decided(), n.dec.Seq)
}

// undecided counts the items stored and not yet decided: those this
// node's submitter stored without waiting after the processor's last
// decided message, and, until they are all decided, those stored before
// the start.
func (n *Node) undecided(s *infra.Submitter) func() uint64 {
	return func() uint64 {
		u := s.Undecided(n.dec.Decided())
		if _, ok := n.restored(); !ok {
			u += n.restore.start.undecidedItems
		}
		return u
	}
}

// readyJournalWait bounds the probe's one request to JetStream: a probe
// must answer within a load balancer's timeout, and a journal that does
// not answer in this time counts as unreachable.
const readyJournalWait = 2 * time.Second

// Ready returns nil when the node can serve, and otherwise the reason it
// cannot (GET /readyz answers 503 not_ready with it): NATS is not
// connected or the journal stream does not answer; on a processor node,
// the processor is not deciding commands (stopped, or rebuilding its
// state) or the commands stored before the start are not all decided
// yet; on a node with a read model, the projector has stopped or the
// read model is further behind the journal than the admission bound
// (Config.MaxReadLag), past which writes wait. A read model a few events
// behind, as it always is under load, is ready: reads wait for the writes
// they must see (ADR 0008), and admission bounds the lag. An API node
// without a processor is ready whether or not a processor runs
// elsewhere: it stores commands, answered 202 until one decides them.
func (n *Node) Ready(ctx context.Context) error {
	if err := n.readyInMemoryErr(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, readyJournalWait)
	defer cancel()
	if _, err := n.JS.Stream(ctx, n.Names.JournalStream); err != nil {
		return fmt.Errorf("journal stream unreachable: %w", err)
	}
	return nil
}

// readyInMemoryErr is Ready without asking the server for the journal
// stream.
func (n *Node) readyInMemoryErr() error {
	if !n.NC.IsConnected() {
		return errors.New("nats is not connected")
	}
	if n.proc != nil {
		if n.procStopped.Load() {
			return errors.New("the processor is not running")
		}
		if !n.dec.Ready() {
			return errors.New("the processor is rebuilding its state")
		}
		if _, ok := n.restored(); !ok {
			return fmt.Errorf("the processor is deciding the %d command messages stored before the start", n.restore.start.undecidedMsgs)
		}
	}
	if n.projector != nil {
		if n.projStopped.Load() {
			return errors.New("the projector is not running")
		}
		if err := n.readModelWithinBound(); err != nil {
			return err
		}
	}
	return nil
}

// readyInMemory is Ready without asking the server for the journal stream:
// what the metrics' ready gauge reads at every scrape.
func (n *Node) readyInMemory() bool { return n.readyInMemoryErr() == nil }

// readModelWithinBound refuses a read model further behind the journal
// than admission lets writes run ahead of it.
func (n *Node) readModelWithinBound() error {
	head, applied := n.journalSeq(), n.Store.Applied().Seq
	if behind := head - min(head, applied); behind > n.maxReadLag {
		return fmt.Errorf("read model %d events behind the journal (at %d of %d), over the admission bound of %d",
			behind, applied, head, n.maxReadLag)
	}
	return nil
}

// status reports the journal's end as the processor knows it and the read
// model's committed checkpoint, for GET /v1/status. It is polled under
// load, so it reads only memory: the processor's sequence, the journal
// position and the read model's committed checkpoint. The checkpoint is
// read first, so that the journal's figures are taken after it and are
// normally at least as high.
func (n *Node) status(context.Context) (api.StatusView, error) {
	cp := n.Store.Applied()
	head := n.dec.Head()
	j := api.JournalStatus{Sequence: head.Seq}
	if n.journal != nil {
		j.Position = n.journal.Position()
	}
	if head.Seq > 0 && head.Hash != (domain.Hash{}) {
		j.Hash = head.Hash.String()
	}
	return api.StatusView{
		Journal:   j,
		ReadModel: api.ReadModelStatus{Sequence: cp.Seq, Position: cp.Position},
		Processor: n.processorStatus(),
	}, nil
}

// trackedJournal is the processor's journal, remembering the last journal
// position appended or replayed to, so that GET /v1/status reports the
// journal's end without a JetStream request. The processor is the
// journal's single writer, so this is the stream's last position once the
// processor has rebuilt its state.
type trackedJournal struct {
	commands.Journal
	last atomic.Uint64
	// onAppend is told each append's latency (nil: nobody); appended
	// remembers when each position was stored, for the read model's lag
	// in seconds (metrics.go).
	onAppend func(time.Duration)
	appended appendTimes
}

var _ commands.Journal = (*trackedJournal)(nil)

// Position returns the last journal position appended or replayed to.
func (j *trackedJournal) Position() uint64 { return j.last.Load() }

// Append is the journal's Append, noting the position it returns.
func (j *trackedJournal) Append(ctx context.Context, records []domain.Record, after uint64) (uint64, error) {
	start := time.Now()
	pos, err := j.Journal.Append(ctx, records, after)
	if err == nil {
		j.note(pos)
		j.appended.note(pos, time.Now())
		if j.onAppend != nil {
			j.onAppend(time.Since(start))
		}
	}
	return pos, err
}

// Replay is the journal's Replay, noting the last position read.
func (j *trackedJournal) Replay(ctx context.Context, fn func(domain.Record) error) (uint64, error) {
	pos, err := j.Journal.Replay(ctx, fn)
	if err == nil {
		j.note(pos)
	}
	return pos, err
}

// ReplayFrom is the journal's ReplayFrom, noting the last position read.
func (j *trackedJournal) ReplayFrom(ctx context.Context, from uint64, fn func(domain.Record) error) (uint64, error) {
	pos, err := j.Journal.ReplayFrom(ctx, from, fn)
	if err == nil {
		j.note(pos)
	}
	return pos, err
}

// note raises the remembered position to pos: the journal only grows.
func (j *trackedJournal) note(pos uint64) {
	for {
		cur := j.last.Load()
		if pos <= cur || j.last.CompareAndSwap(cur, pos) {
			return
		}
	}
}
