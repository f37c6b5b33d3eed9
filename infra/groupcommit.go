package infra

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nuid"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/tracing"
)

// Group commit: concurrent single requests leave together in one command
// message (Submitter, outcomes.go).

// GroupCommit bounds how single requests are coalesced into one command
// message. Coalescing needs no artificial wait: while MaxInFlight messages
// await JetStream's acknowledgement, new requests queue and leave together
// in the next message.
type GroupCommit struct {
	MaxItems    int           // items per coalesced message (default 1,000)
	MaxWait     time.Duration // extra wait for more requests once one is queued (default 0)
	MaxInFlight int           // coalesced messages awaiting their ack at once (default 2)
}

func (g *GroupCommit) setDefaults() {
	if g.MaxItems <= 0 {
		g.MaxItems = 1_000
	}
	g.MaxItems = min(g.MaxItems, commands.MaxItemsPerCommand)
	if g.MaxInFlight <= 0 {
		g.MaxInFlight = 2
	}
}

// request is one caller's items on their way into a command message.
type request struct {
	items     []commands.Item
	wait      bool
	state     atomic.Int32       // queued, claimed or given up
	res       chan submitOutcome // buffered: the result, once
	published chan struct{}      // closed once the message holding it is stored
	trace     string             // the request's traceparent; "" when tracing is off
}

const (
	reqQueued int32 = iota
	reqClaimed
	reqGivenUp
)

type submitOutcome struct {
	results []commands.Result
	err     error
	stored  bool
}

// coalesce is the group-commit loop: it takes the first queued request,
// waits for a free in-flight slot (while more requests queue), then packs
// everything queued, up to MaxItems, into one message.
func (s *Submitter) coalesce() {
	defer s.wg.Done()
	for {
		var first *request
		select {
		case first = <-s.queue:
		case <-s.done:
			return
		}
		select {
		case s.inflight <- struct{}{}:
		case <-s.done:
			first.res <- submitOutcome{err: commands.ErrNotStored}
			return
		}
		batch := []*request{first}
		n := len(first.items)
		var timeout <-chan time.Time
		if s.group.MaxWait > 0 {
			timeout = time.After(s.group.MaxWait)
		}
	fill:
		for n < s.group.MaxItems {
			select {
			case r := <-s.queue:
				batch = append(batch, r)
				n += len(r.items)
				continue
			default:
			}
			if timeout == nil {
				break
			}
			select {
			case r := <-s.queue:
				batch = append(batch, r)
				n += len(r.items)
			case <-timeout:
				break fill
			}
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.inflight }()
			s.send(batch)
		}()
	}
}

// send stores the claimed requests of batch as one message and routes the
// reply back to each.
func (s *Submitter) send(batch []*request) {
	live := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqQueued, reqClaimed) {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	env := commands.Envelope{Version: commands.WireVersion, ID: nuid.Next(), Groups: make([]int, len(live))}
	waiting, async := false, 0
	var traces []string // bounded: a parent and tracing.MaxLinks links
	for i, r := range live {
		if r.trace != "" && len(traces) <= tracing.MaxLinks {
			traces = append(traces, r.trace)
		}
		env.Items = append(env.Items, r.items...)
		env.Groups[i] = len(r.items)
		waiting = waiting || r.wait
		if !r.wait {
			async += len(r.items)
		}
	}
	if waiting {
		env.Reply = s.reply
		s.await(env.ID, func(rep commands.Reply) { deliver(live, rep) })
		time.AfterFunc(replyWaitMax, func() { s.forget(env.ID) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	err := s.publish(ctx, &env, async, traces)
	cancel()
	if err != nil {
		s.forget(env.ID)
	}
	for _, r := range live {
		switch {
		case err != nil:
			// Non-blocking: the reply may have been delivered already (a
			// publish unconfirmed in time but stored and decided), and
			// then the request holds the better answer.
			select {
			case r.res <- submitOutcome{err: err}:
			default:
			}
			continue
		case !r.wait:
			r.res <- submitOutcome{stored: true}
		}
		close(r.published)
	}
}

// deliver splits a reply along the requests it answers.
func deliver(live []*request, rep commands.Reply) {
	off := 0
	for _, r := range live {
		n := len(r.items)
		if !r.wait {
			off += n
			continue
		}
		var out submitOutcome
		if off+n > len(rep.Results) {
			out = submitOutcome{err: fmt.Errorf("reply has %d results: %w", len(rep.Results), commands.ErrNoAnswer), stored: true}
		} else {
			out = submitOutcome{results: rep.Results[off : off+n], stored: true}
		}
		// Never blocks: the reply is delivered from the processor's
		// goroutine when it is local (LocalNotifier), and a request whose
		// publish failed may already hold its outcome; it reads one.
		select {
		case r.res <- out:
		default:
		}
		off += n
	}
}
