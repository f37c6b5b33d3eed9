package infra

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/tracing"
)

// The errors of Submit are commands.Submitter's (commands/ports.go).
var _ commands.Submitter = (*Submitter)(nil)

// JetStream error code for a publish refused by a full DiscardNew stream.
const (
	errCodeStreamStoreFailed  = 10077 // maximum messages/bytes exceeded
	errCodeStreamMsgsExceeded = 10054 // resource limits exceeded
)

// HeaderItems is set on every command message to the number of items it
// holds, so that the items stored and not yet decided can be counted from
// the commands stream's headers alone (see node's backlog count).
const HeaderItems = "Ledger-Items"

// Bounds of the submitter.
const (
	// outcomePendingMsgs bounds replies queued in the client for this
	// instance.
	outcomePendingMsgs = 1 << 16
	// submitQueueMax bounds requests waiting to be coalesced; a full queue
	// makes callers wait (and time out), which is the backpressure.
	submitQueueMax = 1 << 16
	// publishTimeout bounds storing one command message.
	publishTimeout = 10 * time.Second
	// replyWaitMax bounds how long a reply is routed after its message
	// was stored; later replies are dropped (the callers have given up).
	replyWaitMax = 2 * time.Minute
)

// Submitter is the API side of the command bus: it appends command
// messages, coalescing concurrent single requests (group commit), and routes
// the processor's replies, which arrive on one subscription per instance,
// back to the waiting requests.
type Submitter struct {
	js    jetstream.JetStream
	names journalio.Names
	reply string
	sub   *nats.Subscription
	group GroupCommit

	queue    chan *request
	inflight chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	waiters map[string]func(commands.Reply)

	// stored lists the command messages holding items stored without
	// waiting (Prefer: respond-async) that the processor may not have
	// decided yet: their stream sequence and item count (Undecided).
	storedMu sync.Mutex
	stored   []storedItems
}

// storedItems is a command message's count of items stored without
// waiting.
type storedItems struct {
	seq uint64
	n   int
}

// storedMax bounds the messages remembered for Undecided. Past it the
// oldest are forgotten, which under-counts; it takes 100,000 messages of
// unanswered writes in flight to get there, far past any lag bound.
const storedMax = 100_000

// NewSubmitter subscribes to this instance's outcome subject and starts
// the group-commit loop; Close stops both.
func NewSubmitter(nc *nats.Conn, js jetstream.JetStream, n journalio.Names, g GroupCommit) (*Submitter, error) {
	g.setDefaults()
	s := &Submitter{
		js: js, names: n, reply: n.OutcomeSubject(nuid.Next()), group: g,
		queue: make(chan *request, submitQueueMax), inflight: make(chan struct{}, g.MaxInFlight),
		done: make(chan struct{}), waiters: make(map[string]func(commands.Reply)),
	}
	sub, err := nc.Subscribe(s.reply, s.route)
	if err != nil {
		return nil, fmt.Errorf("subscribe outcomes: %w", err)
	}
	if err := sub.SetPendingLimits(outcomePendingMsgs, 256<<20); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("outcome limits: %w", err)
	}
	s.sub = sub
	s.wg.Add(1)
	go s.coalesce()
	return s, nil
}

func (s *Submitter) route(msg *nats.Msg) {
	r, err := commands.DecodeReply(msg.Data)
	if err != nil {
		return // not ours to answer; the waiters time out and answer 202
	}
	s.dispatch(r)
}

// dispatch hands a reply to the request waiting for it, if any. It never
// blocks (the waiters' callbacks send to buffered channels).
func (s *Submitter) dispatch(r commands.Reply) {
	s.mu.Lock()
	fn := s.waiters[r.ID]
	delete(s.waiters, r.ID)
	s.mu.Unlock()
	if fn != nil {
		fn(r)
	}
}

// Submit appends items. A single item joins the group commit; several go
// in one message of their own. With wait, Submit blocks for the processor's
// results until ctx ends, then returns commands.ErrNoAnswer if the items were stored
// (they will be decided), commands.ErrNotStored if they were not, or commands.ErrMaybeStored
// if JetStream did not confirm in time; without, it returns once JetStream
// has stored them.
func (s *Submitter) Submit(ctx context.Context, items []commands.Item, wait bool) ([]commands.Result, error) {
	if len(items) != 1 {
		return s.SubmitEnvelope(ctx, items, false, wait)
	}
	req := &request{items: items, wait: wait, res: make(chan submitOutcome, 1), published: make(chan struct{}),
		trace: tracing.FromContext(ctx)}
	select {
	case s.queue <- req:
	case <-ctx.Done():
		return nil, commands.ErrNotStored
	case <-s.done:
		return nil, commands.ErrNotStored
	}
	select {
	case out := <-req.res:
		return out.results, out.err
	case <-ctx.Done():
	}
	if req.state.CompareAndSwap(reqQueued, reqGivenUp) {
		return nil, commands.ErrNotStored // the coalescer will skip it
	}
	// Claimed: it is being stored or was; say which once that is known.
	t := time.NewTimer(publishTimeout)
	defer t.Stop()
	select {
	case out := <-req.res:
		if out.err != nil && !out.stored {
			return nil, out.err
		}
		if out.results != nil {
			return out.results, nil
		}
	case <-req.published:
	case <-t.C:
		return nil, commands.ErrMaybeStored // its publish has not finished
	}
	return nil, commands.ErrNoAnswer
}

// SubmitEnvelope appends items as one command message of their own,
// all-or-nothing when atomic, and waits like Submit.
func (s *Submitter) SubmitEnvelope(ctx context.Context, items []commands.Item, atomic, wait bool) ([]commands.Result, error) {
	env := commands.Envelope{Version: commands.WireVersion, ID: nuid.Next(), Atomic: atomic, Items: items}
	res := make(chan commands.Reply, 1)
	if wait {
		env.Reply = s.reply
		s.await(env.ID, func(r commands.Reply) { res <- r })
		defer s.forget(env.ID)
	}
	pubCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	async := 0
	if !wait {
		async = len(items)
	}
	var traces []string
	if tp := tracing.FromContext(ctx); tp != "" {
		traces = []string{tp}
	}
	err := s.publish(pubCtx, &env, async, traces)
	cancel()
	if err != nil {
		return nil, err
	}
	if !wait {
		return nil, nil
	}
	select {
	case r := <-res:
		if len(r.Results) != len(items) {
			return nil, fmt.Errorf("reply has %d results for %d items: %w", len(r.Results), len(items), commands.ErrNoAnswer)
		}
		return r.Results, nil
	case <-ctx.Done():
		return nil, commands.ErrNoAnswer
	}
}

func (s *Submitter) await(id string, fn func(commands.Reply)) {
	s.mu.Lock()
	s.waiters[id] = fn
	s.mu.Unlock()
}

func (s *Submitter) forget(id string) {
	s.mu.Lock()
	delete(s.waiters, id)
	s.mu.Unlock()
}

// publish stores one command message, async of whose items no one waits
// for (see Undecided).
func (s *Submitter) publish(ctx context.Context, env *commands.Envelope, async int, traces []string) error {
	data, err := commands.EncodeEnvelope(nil, env)
	if err != nil {
		return fmt.Errorf("encode command: %w", err)
	}
	msg := nats.NewMsg(s.names.CommandsSubject)
	msg.Data = data
	msg.Header.Set(HeaderItems, strconv.Itoa(len(env.Items)))
	if len(traces) > 0 {
		// Tracing on: the requests' spans, for the processor (ADR 0021).
		msg.Header[tracing.Header] = traces
	}
	ack, err := s.js.PublishMsg(ctx, msg, jetstream.WithMsgID(env.ID), jetstream.WithExpectStream(s.names.CommandsStream))
	if err != nil {
		return publishError(err)
	}
	if async > 0 {
		s.storedMu.Lock()
		if len(s.stored) >= storedMax {
			s.stored = s.stored[1:]
		}
		s.stored = append(s.stored, storedItems{seq: ack.Sequence, n: async})
		s.storedMu.Unlock()
	}
	return nil
}

// publishError classifies a failed command publish: refused by the
// server (full, or another refusal: not stored), or sent without a
// confirmation (commands.ErrMaybeStored: a timeout or a lost connection leaves the
// message stored or not, and the caller must say so).
func publishError(err error) error {
	var apiErr *jetstream.APIError
	switch {
	case errors.As(err, &apiErr) && (apiErr.ErrorCode == errCodeStreamStoreFailed || apiErr.ErrorCode == errCodeStreamMsgsExceeded):
		return fmt.Errorf("%w: %v", commands.ErrCommandsFull, err)
	case errors.As(err, &apiErr), errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse):
		// The server answered with a refusal, or no stream listens:
		// nothing is stored.
		return fmt.Errorf("append command: %w: %w", commands.ErrNotStored, err)
	}
	return fmt.Errorf("append command: %w: %w", commands.ErrMaybeStored, err)
}

// Undecided returns how many items stored without waiting are in command
// messages after decided, the stream sequence of the last message the
// processor has decided; it forgets the messages up to decided. The API
// counts them toward its read-model lag bound: they will be journaled
// without anyone waiting for them.
func (s *Submitter) Undecided(decided uint64) uint64 {
	s.storedMu.Lock()
	defer s.storedMu.Unlock()
	kept, n := s.stored[:0], uint64(0)
	for _, st := range s.stored {
		if st.seq > decided {
			kept = append(kept, st)
			n += uint64(st.n)
		}
	}
	s.stored = kept
	return n
}

// Close stops the group-commit loop and the reply subscription. Requests
// still queued are answered commands.ErrNotStored.
func (s *Submitter) Close() error {
	close(s.done)
	s.wg.Wait()
	for {
		select {
		case r := <-s.queue:
			if r.state.CompareAndSwap(reqQueued, reqClaimed) {
				r.res <- submitOutcome{err: commands.ErrNotStored}
			}
		default:
			return s.sub.Unsubscribe()
		}
	}
}
