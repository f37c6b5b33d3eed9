package infra

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
)

// commandBufferMsgs bounds the command messages fetched ahead of the
// processor; the pull consumer stops asking when the buffer is full.
const commandBufferMsgs = 1024

// CommandSource feeds the processor from its durable pull consumer.
type CommandSource struct {
	js    jetstream.JetStream
	names Names

	mu   sync.Mutex
	cc   jetstream.ConsumeContext
	buf  chan jetstream.Msg
	done chan struct{} // closed to release a callback blocked on a full buf
}

var _ commands.CommandSource = (*CommandSource)(nil)

// NewCommandSource returns a source over the processor's consumer, which
// EnsureStreams created.
func NewCommandSource(js jetstream.JetStream, n Names) *CommandSource {
	return &CommandSource{js: js, names: n}
}

// Rewind stops the current subscription, discards what it buffered, resets
// the consumer to its acknowledgement floor and subscribes again.
func (s *CommandSource) Rewind(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	if _, err := s.js.ResetConsumer(ctx, s.names.CommandsStream, s.names.ProcessorName); err != nil {
		return fmt.Errorf("reset processor consumer: %w", err)
	}
	cons, err := s.js.Consumer(ctx, s.names.CommandsStream, s.names.ProcessorName)
	if err != nil {
		return fmt.Errorf("processor consumer: %w", err)
	}
	buf, done := make(chan jetstream.Msg, commandBufferMsgs), make(chan struct{})
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case buf <- m:
		case <-done:
		}
	},
		jetstream.PullMaxMessages(commandBufferMsgs/2))
	if err != nil {
		return fmt.Errorf("consume commands: %w", err)
	}
	s.cc, s.buf, s.done = cc, buf, done
	return nil
}

// Next waits for one message, then takes whatever else is buffered, up to max.
func (s *CommandSource) Next(ctx context.Context, max int) ([]commands.CommandMessage, error) {
	s.mu.Lock()
	buf := s.buf
	s.mu.Unlock()
	if buf == nil {
		return nil, fmt.Errorf("command source not started")
	}
	var first jetstream.Msg
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case first = <-buf:
	}
	out := make([]commands.CommandMessage, 0, min(max, len(buf)+1))
	m, err := commandMessage(first)
	if err != nil {
		return nil, err
	}
	out = append(out, m)
	for len(out) < max {
		select {
		case msg := <-buf:
			m, err := commandMessage(msg)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		default:
			return out, nil
		}
	}
	return out, nil
}

func commandMessage(msg jetstream.Msg) (commands.CommandMessage, error) {
	meta, err := msg.Metadata()
	if err != nil {
		return commands.CommandMessage{}, fmt.Errorf("command metadata: %w", err)
	}
	return commands.CommandMessage{Seq: meta.Sequence.Stream, Data: msg.Data(), Ack: msg.Ack}, nil
}

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
	close(s.done)
	s.cc.Stop()
	<-s.cc.Closed()
	s.cc, s.buf, s.done = nil, nil, nil
}
