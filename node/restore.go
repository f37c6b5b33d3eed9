package node

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/journalio"
)

// What a restart must not forget (ADR 0009). The API keeps in memory the
// highest sequence it acknowledged and the ids it answered 202; a restart
// loses both, and the processor is not ready until it has rebuilt. So
// before anything is served the node reads, from JetStream itself, where
// the journal ends and which commands are stored and not yet decided:
// reads wait for the read model to reach the journal's end, a read that
// misses answers 503 until those commands are decided, and admission
// counts their items whatever the processor is doing.

// startPosition is where the journal and the commands stream stood when
// the node started.
type startPosition struct {
	// journalSeq is the ledger sequence of the journal's last event.
	journalSeq uint64
	// commandsLast is the commands stream's last sequence, and
	// undecidedMsgs the command messages after the processor's
	// acknowledgement floor: stored, not yet decided.
	commandsLast  uint64
	undecidedMsgs uint64
	// undecidedItems counts the items those messages hold.
	undecidedItems uint64
}

// Bounds of reading the start position.
const (
	// startScanTimeout bounds counting the undecided items; past it the
	// rest are counted at commands.MaxItemsPerCommand each.
	startScanTimeout = 30 * time.Second
	// minItemBytes is less than any item's JSON encoding: a message
	// without an item count header (written before the header existed)
	// counts at most its size over this.
	minItemBytes = 24
)

// readStartPosition reads the journal's last event sequence and counts the
// commands stored after the processor's acknowledgement floor from their
// headers (HeadersOnly: a heavy command costs no more than a light one).
func readStartPosition(ctx context.Context, js jetstream.JetStream, names journalio.Names, log *slog.Logger) (startPosition, error) {
	var p startPosition
	var err error
	end, err := journalio.ReadJournalEnd(ctx, js, names)
	if err != nil {
		return p, err
	}
	p.journalSeq = end.Seq
	stream, err := js.Stream(ctx, names.CommandsStream)
	if err != nil {
		return p, fmt.Errorf("commands stream: %w", err)
	}
	st := stream.CachedInfo().State
	p.commandsLast = st.LastSeq
	cons, err := stream.Consumer(ctx, names.ProcessorName)
	if err != nil {
		return p, fmt.Errorf("processor consumer: %w", err)
	}
	floor := cons.CachedInfo().AckFloor.Stream
	first := max(floor+1, st.FirstSeq)
	if st.Msgs == 0 || p.commandsLast < first {
		return p, nil
	}
	p.undecidedMsgs = p.commandsLast - first + 1
	counted, seen, err := countItems(ctx, stream, first, p.commandsLast)
	if err != nil {
		// Count what was not seen at the most a message may hold: the
		// bound then errs on the side of holding writes back.
		log.Warn("counting the undecided commands' items; counting the rest at the most a message holds", "err", err,
			"counted_msgs", seen, "msgs", p.undecidedMsgs)
		counted += (p.undecidedMsgs - min(seen, p.undecidedMsgs)) * commands.MaxItemsPerCommand
	}
	p.undecidedItems = counted
	return p, nil
}

// countItems sums the item counts of the command messages first..last
// from their headers, and says how many messages it saw.
func countItems(ctx context.Context, stream jetstream.Stream, first, last uint64) (items, seen uint64, err error) {
	ctx, cancel := context.WithTimeout(ctx, startScanTimeout)
	defer cancel()
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   first,
		HeadersOnly:   true,
	})
	if err != nil {
		return 0, 0, fmt.Errorf("commands reader: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return 0, 0, fmt.Errorf("commands reader: %w", err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return items, seen, fmt.Errorf("read commands: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return items, seen, fmt.Errorf("command metadata: %w", err)
		}
		if meta.Sequence.Stream > last {
			return items, seen, nil
		}
		seen++
		items += itemsOf(msg.Headers())
		if meta.Sequence.Stream == last {
			return items, seen, nil
		}
	}
}

// itemsOf is a command message's item count from its headers: the
// submitter's count, or for a message without one, at most what its size
// allows.
func itemsOf(h nats.Header) uint64 {
	if n, err := strconv.ParseUint(h.Get(infra.HeaderItems), 10, 64); err == nil && n > 0 {
		return min(n, commands.MaxItemsPerCommand)
	}
	size, err := strconv.ParseUint(h.Get(nats.MsgSize), 10, 64)
	if err != nil {
		return commands.MaxItemsPerCommand
	}
	return min(max(size/minItemBytes, 1), commands.MaxItemsPerCommand)
}

// restoreMark tells when every command stored before the start is
// decided, and the journal sequence that then covers their decisions.
type restoreMark struct {
	start startPosition
	done  atomic.Bool
	seq   atomic.Uint64
}

func newRestoreMark(start startPosition) *restoreMark {
	r := &restoreMark{start: start}
	if start.undecidedMsgs == 0 {
		r.seq.Store(start.journalSeq)
		r.done.Store(true)
	}
	return r
}

// restored reports whether the processor has decided every command stored
// before the start (decided is its last decided command message), and if
// so the journal's last sequence once it had (seq of the processor, read
// after decided: it stores its sequence before its decided mark). It reads
// only memory: admission calls it on every write.
func (r *restoreMark) restored(decided uint64, seq func() uint64) (uint64, bool) {
	if r.done.Load() {
		return r.seq.Load(), true
	}
	if decided < r.start.commandsLast {
		return 0, false
	}
	s := max(seq(), r.start.journalSeq)
	for {
		cur := r.seq.Load()
		if s <= cur || r.seq.CompareAndSwap(cur, s) {
			break
		}
	}
	r.done.Store(true)
	return r.seq.Load(), true
}
