package journalio

import (
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// Gate guards watermill-nats's JetStream subscriber against itself: its
// handler sends each message on an output channel that it closes as soon as
// the subscription's context ends, while the NATS callback may still be
// running the handler for a message already buffered, and a send on the
// closed channel panics. A consumer wrapped by GatedConsumer runs the
// handler only while the gate is open; Close shuts it and reports when the
// calls in flight have returned, after which the subscription may end. The
// messages dropped meanwhile are not acked and come again to the next
// subscription. Every Subscription runs behind one.
type Gate struct {
	mu       sync.Mutex
	closed   bool
	inFlight sync.WaitGroup
}

func (g *Gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.inFlight.Add(1)
	return true
}

// Close stops new handler calls and returns a channel closed when the calls
// in flight have returned. No enter succeeds once closed is set, so the
// WaitGroup is never added to while it is waited on.
func (g *Gate) Close() <-chan struct{} {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	done := make(chan struct{})
	go func() {
		g.inFlight.Wait()
		close(done)
	}()
	return done
}

// GatedConsumer runs the subscriber's handler only while Gate is open.
type GatedConsumer struct {
	jetstream.Consumer
	Gate *Gate
}

// Consume is the wrapped consumer's, with the handler behind the gate.
func (c GatedConsumer) Consume(handler jetstream.MessageHandler, opts ...jetstream.PullConsumeOpt) (jetstream.ConsumeContext, error) {
	return c.Consumer.Consume(func(msg jetstream.Msg) {
		if !c.Gate.enter() {
			return // the session is ending; the message comes again later
		}
		defer c.Gate.inFlight.Done()
		handler(msg)
	}, opts...)
}
