package infra

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/tracing"
)

// Bounds of what the command source holds ahead of the processor. A flood
// of large commands must not outrun them: what the server pushes beyond a
// subscription's pending limits is dropped by the client ("slow
// consumer"), and although a dropped command is only ever delivered again
// (the processor never acknowledges past a gap), every drop costs a
// rewind.
const (
	// commandBufferMsgs bounds the command messages fetched ahead of the
	// processor; the pull consumer stops asking when the buffer is full.
	commandBufferMsgs = 1024
	// commandBufferBytes bounds their bytes: 8 messages of the largest
	// size, or 1,024 of 64 KiB.
	commandBufferBytes = 64 << 20
	// commandPullBytes bounds the bytes one pull asks for, and so what can
	// wait in the subscription while the buffer is full. It is at least
	// the largest message (a pull whose limit is below a message's size
	// stalls), and far below the client's pending limit (64 MiB).
	commandPullBytes = 2 * maxPayloadBytes
	// commandPullExpiry bounds how long one pull request waits at the
	// server (the client's default is 30 s). A processor frozen while it
	// held the lease (SIGSTOP, a long pause) leaves its pull requests
	// waiting, and the server would hand new commands to them rather than
	// to the standby that took over. Shorter than the lease's TTL
	// (DefaultLeaseTTL, 3 s), they have all expired by the time a standby
	// may take over (ADR 0026). An idle processor pulls again this often.
	commandPullExpiry = 2 * time.Second
)

// CommandSource feeds the processor from its durable pull consumer.
type CommandSource struct {
	js    jetstream.JetStream
	names journalio.Names

	mu   sync.Mutex
	cc   jetstream.ConsumeContext
	feed *commandFeed
}

var _ commands.CommandSource = (*CommandSource)(nil)

// NewCommandSource returns a source over the processor's consumer, which
// EnsureStreams created.
func NewCommandSource(js jetstream.JetStream, n journalio.Names) *CommandSource {
	return &CommandSource{js: js, names: n}
}

// commandFeed is the buffer between the consumer's callback and Next,
// bounded by count (the channel) and by bytes (the budget).
type commandFeed struct {
	buf  chan jetstream.Msg
	done chan struct{} // closed to release a callback blocked on the bounds
	fail chan error    // the consumer is gone; Next reports it

	mu    sync.Mutex
	cond  *sync.Cond
	bytes int // bytes of the messages in buf or on their way into it
}

func newCommandFeed() *commandFeed {
	f := &commandFeed{buf: make(chan jetstream.Msg, commandBufferMsgs), done: make(chan struct{}), fail: make(chan error, 1)}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// put is the consumer's callback: it waits while the buffer holds its
// bytes' worth (one message is always let in, however large).
func (f *commandFeed) put(m jetstream.Msg) {
	n := len(m.Data())
	f.mu.Lock()
	for f.bytes > 0 && f.bytes+n > commandBufferBytes {
		select {
		case <-f.done:
			f.mu.Unlock()
			return
		default:
		}
		f.cond.Wait()
	}
	f.bytes += n
	f.mu.Unlock()
	select {
	case f.buf <- m:
	case <-f.done:
	}
}

// release returns n bytes to the budget.
func (f *commandFeed) release(n int) {
	if n == 0 {
		return
	}
	f.mu.Lock()
	f.bytes -= n
	f.mu.Unlock()
	f.cond.Broadcast()
}

// stop releases a callback waiting in put: done is closed under the lock,
// so a put that checked it before is already waiting when it is woken.
func (f *commandFeed) stop() {
	f.mu.Lock()
	close(f.done)
	f.cond.Broadcast()
	f.mu.Unlock()
}

// Rewind stops the current subscription, discards what it buffered, resets
// the consumer to its acknowledgement floor (creating it again if it was
// deleted) and subscribes again. It reports where the stream and the
// consumer stand.
func (s *CommandSource) Rewind(ctx context.Context) (commands.CommandsState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	_, err := s.js.ResetConsumer(ctx, s.names.CommandsStream, s.names.ProcessorName)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		// Deleted (or deleted with its stream): a new consumer starts from
		// the stream's first message, and the processor checks that no
		// undecided command is missing before it.
		_, err = s.js.CreateOrUpdateConsumer(ctx, s.names.CommandsStream, ProcessorConsumerConfig(s.names))
	}
	if err != nil {
		return commands.CommandsState{}, fmt.Errorf("reset processor consumer: %w", err)
	}
	cons, err := s.js.Consumer(ctx, s.names.CommandsStream, s.names.ProcessorName)
	if err != nil {
		return commands.CommandsState{}, fmt.Errorf("processor consumer: %w", err)
	}
	stream, err := s.js.Stream(ctx, s.names.CommandsStream)
	if err != nil {
		return commands.CommandsState{}, fmt.Errorf("commands stream: %w", err)
	}
	si, ci := stream.CachedInfo(), cons.CachedInfo()
	st := commands.CommandsState{
		AckFloor: ci.AckFloor.Stream,
		First:    si.State.FirstSeq,
		Last:     si.State.LastSeq,
		Msgs:     si.State.Msgs,
	}
	f := newCommandFeed()
	cc, err := cons.Consume(f.put,
		jetstream.PullMaxMessagesWithBytesLimit(commandBufferMsgs/2, commandPullBytes),
		jetstream.PullExpiry(commandPullExpiry),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				select {
				case f.fail <- err:
				default:
				}
			}
		}))
	if err != nil {
		return commands.CommandsState{}, fmt.Errorf("consume commands: %w", err)
	}
	s.cc, s.feed = cc, f
	return st, nil
}

// Stored reports whether the commands stream holds the message at seq.
func (s *CommandSource) Stored(ctx context.Context, seq uint64) (bool, error) {
	stream, err := s.js.Stream(ctx, s.names.CommandsStream)
	if err != nil {
		return false, fmt.Errorf("commands stream: %w", err)
	}
	_, err = stream.GetMsg(ctx, seq)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("command %d: %w", seq, err)
	}
	return true, nil
}

// Next waits for one message, then takes whatever else is buffered, up to
// max. What it returns leaves the buffer's bounds: a batch holds at most
// what the buffer held, so the processor's batch and the buffer refilling
// behind it together hold at most twice the bound.
func (s *CommandSource) Next(ctx context.Context, max int) ([]commands.CommandMessage, error) {
	s.mu.Lock()
	f := s.feed
	s.mu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("command source not started")
	}
	var first jetstream.Msg
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case err := <-f.fail:
		return nil, fmt.Errorf("processor consumer: %w", err)
	case first = <-f.buf:
	}
	out := make([]commands.CommandMessage, 0, min(max, len(f.buf)+1))
	m, err := commandMessage(first)
	if err != nil {
		return nil, err
	}
	out = append(out, m)
	taken := len(m.Data)
	for len(out) < max {
		select {
		case msg := <-f.buf:
			m, err := commandMessage(msg)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
			taken += len(m.Data)
		default:
			f.release(taken)
			return out, nil
		}
	}
	f.release(taken)
	return out, nil
}

func commandMessage(msg jetstream.Msg) (commands.CommandMessage, error) {
	meta, err := msg.Metadata()
	if err != nil {
		return commands.CommandMessage{}, fmt.Errorf("command metadata: %w", err)
	}
	return commands.CommandMessage{Seq: meta.Sequence.Stream, Data: msg.Data(), Ack: msg.Ack, Trace: msg.Headers()[tracing.Header]}, nil
}

// Stop ends delivery until the next Rewind: what the subscription
// buffered is dropped, unacknowledged.
func (s *CommandSource) Stop() { s.Close() }

// Close stops the subscription.
func (s *CommandSource) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *CommandSource) stopLocked() {
	if s.cc == nil {
		return
	}
	s.feed.stop()
	s.cc.Stop()
	<-s.cc.Closed()
	s.cc, s.feed = nil, nil
}
