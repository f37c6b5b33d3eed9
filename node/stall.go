package node

import (
	"context"
	"fmt"
	"time"
)

// A projector can stop following the journal without stopping: on a NATS
// cluster its consumer (ephemeral, on one server) goes with the server
// that held it, and the subscription does not come back. The read model
// then stays behind while the journal grows, reads wait and answer 503,
// and nothing else says why. The watchdog turns that into a failure of
// the node (Failed), which `ledger serve` exits on, so that a restart
// makes the consumer again from the read model's checkpoint.

// DefaultStallLimit is how long the read model may stay behind the
// journal without applying anything before the node fails: far longer
// than any batch takes to apply (milliseconds), short enough that a
// supervisor restarts the node before clients give up on it.
const DefaultStallLimit = 30 * time.Second

// stallCheckEvery is how often the watchdog compares the read model with
// the journal: two reads of memory.
const stallCheckEvery = time.Second

// watchProjector fails the node once the read model has been behind the
// journal, without applying an event, for limit; it returns when ctx ends
// or after reporting.
func (n *Node) watchProjector(ctx context.Context, limit time.Duration) {
	t := time.NewTicker(min(stallCheckEvery, limit/2))
	defer t.Stop()
	last, since := n.Store.Applied().Seq, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		applied, head := n.Store.Applied().Seq, n.journalSeq()
		if applied != last || applied >= head {
			last, since = applied, time.Now()
			continue
		}
		if stalled := time.Since(since); stalled >= limit {
			err := fmt.Errorf("projections stalled: the read model has applied nothing for %s while the journal is %d events ahead (at %d of %d); restart the node",
				stalled.Round(time.Second), head-applied, applied, head)
			select {
			case n.failed <- err:
			default: // a failure is reported already
			}
			return
		}
	}
}
