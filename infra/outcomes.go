package infra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/nats-ledger/ledger/commands"
)

// Notifier sends the processor's replies over core NATS.
type Notifier struct{ nc *nats.Conn }

var _ commands.Notifier = Notifier{}

// NewNotifier returns a notifier on nc.
func NewNotifier(nc *nats.Conn) Notifier { return Notifier{nc: nc} }

// Notify publishes reply on subject.
func (n Notifier) Notify(subject string, reply []byte) error { return n.nc.Publish(subject, reply) }

// Errors of Submit.
var (
	// ErrNoAnswer means the command is stored but its outcome did not
	// arrive in time; it will be decided, and can be read later.
	ErrNoAnswer = errors.New("command accepted; outcome not known yet")
	// ErrCommandsFull means the commands stream is at its limit.
	ErrCommandsFull = errors.New("commands stream is full")
)

// JetStream error code for a publish refused by a full DiscardNew stream.
const (
	errCodeStreamStoreFailed  = 10077 // maximum messages/bytes exceeded
	errCodeStreamMsgsExceeded = 10054 // resource limits exceeded
)

// Submitter is the API side of the command bus: it appends command
// messages and waits for the processor's replies, which arrive on one
// subscription per instance and are routed to the waiting request.
type Submitter struct {
	js    jetstream.JetStream
	names Names
	reply string
	sub   *nats.Subscription

	mu      sync.Mutex
	waiters map[string]chan commands.Reply
}

// outcomePendingMsgs bounds replies queued in the client for this instance.
const outcomePendingMsgs = 1 << 16

// NewSubmitter subscribes to this instance's outcome subject.
func NewSubmitter(nc *nats.Conn, js jetstream.JetStream, n Names) (*Submitter, error) {
	s := &Submitter{js: js, names: n, reply: n.OutcomeSubject(nuid.Next()), waiters: make(map[string]chan commands.Reply)}
	sub, err := nc.Subscribe(s.reply, s.route)
	if err != nil {
		return nil, fmt.Errorf("subscribe outcomes: %w", err)
	}
	if err := sub.SetPendingLimits(outcomePendingMsgs, 256<<20); err != nil {
		return nil, fmt.Errorf("outcome limits: %w", err)
	}
	s.sub = sub
	return s, nil
}

func (s *Submitter) route(msg *nats.Msg) {
	var r commands.Reply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return // not ours to answer; the waiter times out and answers 202
	}
	s.mu.Lock()
	ch := s.waiters[r.ID]
	delete(s.waiters, r.ID)
	s.mu.Unlock()
	if ch != nil {
		ch <- r // buffered, never blocks
	}
}

// Submit appends one command message carrying items. With wait, it blocks
// for the processor's reply until ctx ends and returns ErrNoAnswer then;
// without, it returns once JetStream has stored the command.
func (s *Submitter) Submit(ctx context.Context, items []commands.Item, wait bool) ([]commands.Result, error) {
	env := commands.Envelope{Version: commands.WireVersion, ID: nuid.Next(), Items: items}
	var ch chan commands.Reply
	if wait {
		env.Reply = s.reply
		ch = make(chan commands.Reply, 1)
		s.mu.Lock()
		s.waiters[env.ID] = ch
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.waiters, env.ID)
			s.mu.Unlock()
		}()
	}
	data, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	msg := nats.NewMsg(s.names.CommandsSubject)
	msg.Data = data
	if _, err := s.js.PublishMsg(ctx, msg, jetstream.WithMsgID(env.ID), jetstream.WithExpectStream(s.names.CommandsStream)); err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == errCodeStreamStoreFailed || apiErr.ErrorCode == errCodeStreamMsgsExceeded) {
			return nil, fmt.Errorf("%w: %v", ErrCommandsFull, err)
		}
		return nil, fmt.Errorf("append command: %w", err)
	}
	if !wait {
		return nil, nil
	}
	select {
	case r := <-ch:
		if len(r.Results) != len(items) {
			return nil, fmt.Errorf("reply has %d results for %d items: %w", len(r.Results), len(items), ErrNoAnswer)
		}
		return r.Results, nil
	case <-ctx.Done():
		return nil, ErrNoAnswer
	}
}

// Close stops receiving replies.
func (s *Submitter) Close() error { return s.sub.Unsubscribe() }
