package infra

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The commands stream keeps what it stores (limits retention) and the
// command source purges the decided prefix in chunks (ADR 0015). Under
// interest retention every acknowledgement removed messages, and each time
// an acknowledgement emptied the stream the server deleted its store file
// and created another: 6-8% of the CPU under single-transfer load.

// Defaults of CommandsPurge: decided commands kept at most this long
// before they are purged, so well inside the stream's own bounds
// (commandsMaxMsgs, commandsMaxBytes) that a full stream still means
// undecided commands.
const (
	defaultPurgeEveryMsgs  = 16_384
	defaultPurgeEveryBytes = 16 << 20
	// purgeTimeout bounds one purge request.
	purgeTimeout = 30 * time.Second
)

// CommandsPurge says when the command source purges the commands the
// processor has decided and acknowledged: once this many messages, or this
// many bytes delivered, have been acknowledged since the last purge.
// Zero values take the defaults (16,384 messages, 16 MiB).
type CommandsPurge struct {
	EveryMsgs  uint64
	EveryBytes int
	Logger     *slog.Logger // a failed purge is logged and retried at a later acknowledgement
}

func (c *CommandsPurge) setDefaults() {
	if c.EveryMsgs == 0 {
		c.EveryMsgs = defaultPurgeEveryMsgs
	}
	if c.EveryBytes <= 0 {
		c.EveryBytes = defaultPurgeEveryBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// purger purges the commands stream up to the last acknowledged message
// (kept, see purgeBefore), one purge at a time, off the processor's path.
type purger struct {
	js     jetstream.JetStream
	stream string
	cfg    CommandsPurge

	mu        sync.Mutex
	lastAcked uint64 // the last message acknowledged
	purged    uint64 // every message before it is purged (or was never stored)
	bytes     int    // bytes delivered since the last purge began
	running   bool
	wg        sync.WaitGroup
}

func newPurger(js jetstream.JetStream, stream string, cfg CommandsPurge) *purger {
	cfg.setDefaults()
	return &purger{js: js, stream: stream, cfg: cfg}
}

// delivered counts a message handed to the processor. A message delivered
// twice (after a rewind) counts twice: the purge then comes a little
// early, never late.
func (p *purger) delivered(n int) {
	p.mu.Lock()
	p.bytes += n
	p.mu.Unlock()
}

// acked is called once the processor has acknowledged every message up to
// seq, which it does only after their events are in the journal. The first
// acknowledgement after a start purges whatever decided prefix the last
// run left.
func (p *purger) acked(seq uint64) {
	p.mu.Lock()
	p.lastAcked = max(p.lastAcked, seq)
	due := seq > p.purged && (seq-p.purged >= p.cfg.EveryMsgs || p.bytes >= p.cfg.EveryBytes || p.purged == 0)
	if !due || p.running {
		p.mu.Unlock()
		return
	}
	p.running, p.bytes = true, 0
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		err := p.purgeBefore(seq)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.running = false
		if err != nil {
			p.cfg.Logger.Warn("purge decided commands", "through", seq, "err", err)
			return
		}
		p.purged = max(p.purged, seq)
	}()
}

// purgeBefore removes the messages before seq, the last one the processor
// acknowledged, and keeps seq itself. The server moves a consumer's
// acknowledgement floor up to just before a purge's new first message;
// were seq purged too, and seq+1 deleted by hand before it was decided,
// the new first message would be past that hole and the floor would jump
// it, hiding the loss (ErrCommandsLost). Keeping seq makes the new first
// message seq, which exists and is acknowledged already.
func (p *purger) purgeBefore(seq uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), purgeTimeout)
	defer cancel()
	s, err := p.js.Stream(ctx, p.stream)
	if err != nil {
		return fmt.Errorf("commands stream: %w", err)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSequence(seq)); err != nil {
		return fmt.Errorf("purge commands before %d: %w", seq, err)
	}
	return nil
}

// finish runs once the processor has stopped: it waits for a purge in
// progress, then purges everything acknowledged, the last acknowledged
// message too, so that a stopped ledger's commands stream starts at its
// first undecided command, as it did under interest retention. It does so
// only when the message after it is stored or not yet written, so that
// the purge's new first message is never past a hole (see purgeBefore).
func (p *purger) finish() {
	p.wg.Wait()
	p.mu.Lock()
	acked := p.lastAcked
	p.mu.Unlock()
	if acked == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), purgeTimeout)
	defer cancel()
	s, err := p.js.Stream(ctx, p.stream)
	if err != nil {
		p.cfg.Logger.Warn("purge decided commands at stop", "err", err)
		return
	}
	if last := s.CachedInfo().State.LastSeq; acked < last {
		if _, err := s.GetMsg(ctx, acked+1); err != nil {
			return // a hole after the decided prefix, or no answer: the processor will see to it at the next start
		}
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSequence(acked+1)); err != nil {
		p.cfg.Logger.Warn("purge decided commands at stop", "through", acked, "err", err)
	}
}
