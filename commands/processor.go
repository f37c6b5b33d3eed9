package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// Config tunes the processor. Zero values take the defaults.
type Config struct {
	// MaxBatchMessages bounds the command messages decided per journal
	// append (default 256).
	MaxBatchMessages int
	// MaxRecordEvents bounds the events in one journal record (default 1,000).
	MaxRecordEvents int
	// MaxRecordBytes bounds one journal record's size (default 1 MiB, well
	// under the server's maximum message size).
	MaxRecordBytes int
	// Now is the clock that stamps events (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

const (
	defaultMaxBatchMessages = 256
	defaultMaxRecordEvents  = 1_000
	defaultMaxRecordBytes   = 1 << 20
	// appendTimeout bounds one journal append. It outlives a shutdown
	// signal so that a batch in flight is finished, not abandoned.
	appendTimeout = 30 * time.Second
	// restartBackoffMax caps the wait between rebuilds after a failure.
	restartBackoffMax = 5 * time.Second
)

func (c *Config) setDefaults() {
	if c.MaxBatchMessages <= 0 {
		c.MaxBatchMessages = defaultMaxBatchMessages
	}
	if c.MaxRecordEvents <= 0 {
		c.MaxRecordEvents = defaultMaxRecordEvents
	}
	if c.MaxRecordBytes <= 0 {
		c.MaxRecordBytes = defaultMaxRecordBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// ErrCorruptJournal means the journal failed verification while the state
// was rebuilt from it. The processor stops rather than write after it.
var ErrCorruptJournal = errors.New("journal failed verification")

// Processor is a ledger's single writer.
type Processor struct {
	cfg      Config
	journal  Journal
	source   CommandSource
	notifier Notifier

	// Owned by the Run goroutine.
	state    *domain.State
	lastHash domain.Hash
	position uint64 // journal position of the last record
	lastSeen uint64 // the last command message decided since the rebuild

	ready atomic.Bool
	seq   atomic.Uint64 // last ledger sequence appended, for readiness checks
}

// New returns a processor; Run starts it.
func New(j Journal, src CommandSource, n Notifier, cfg Config) *Processor {
	cfg.setDefaults()
	return &Processor{cfg: cfg, journal: j, source: src, notifier: n}
}

// Ready reports whether the processor has rebuilt its state and is
// consuming commands.
func (p *Processor) Ready() bool { return p.ready.Load() }

// Seq returns the last ledger sequence the processor has appended or read.
func (p *Processor) Seq() uint64 { return p.seq.Load() }

// Run rebuilds the state from the journal and decides commands until ctx
// ends, then returns nil after finishing the batch in flight. When an
// append fails or is fenced, the state may be ahead of the journal, so it
// is thrown away and rebuilt. A journal that fails verification is fatal:
// Run returns an error wrapping ErrCorruptJournal.
func (p *Processor) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		err := p.rebuild(ctx)
		if err == nil {
			p.ready.Store(true)
			err = p.loop(ctx)
			p.ready.Store(false)
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrCorruptJournal) {
			return err
		}
		p.cfg.Logger.Error("processor restarting from the journal", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, restartBackoffMax)
	}
}

// rebuild replaces the state with one built from the whole journal.
func (p *Processor) rebuild(ctx context.Context) error {
	start := time.Now()
	st, last, pos, err := Rebuild(ctx, p.journal)
	if err != nil {
		return err
	}
	if err := p.source.Rewind(ctx); err != nil {
		return fmt.Errorf("rewind commands: %w", err)
	}
	p.state, p.lastHash, p.position, p.lastSeen = st, last, pos, 0
	p.seq.Store(st.Seq())
	p.cfg.Logger.Info("processor state rebuilt", "events", st.Seq(), "position", pos, "elapsed", time.Since(start))
	return nil
}

// Rebuild reads and verifies the whole journal into a fresh state. It
// returns the state, the last event's hash and the last record's position.
func Rebuild(ctx context.Context, j Journal) (*domain.State, domain.Hash, uint64, error) {
	st := domain.NewState()
	last, pos, err := ReadEvents(ctx, j, func(ev *domain.Event) error {
		if err := st.Apply(ev); err != nil {
			return fmt.Errorf("%w: %w", ErrCorruptJournal, err)
		}
		return nil
	})
	if err != nil {
		return nil, domain.Hash{}, 0, err
	}
	return st, last, pos, nil
}

// ReadEvents reads the whole journal, verifies every event's place in the
// hash chain, decodes it and calls fn with it, in order. It returns the last
// event's hash and the last record's position. A verification failure
// wraps ErrCorruptJournal and names the record and sequence.
func ReadEvents(ctx context.Context, j Journal, fn func(*domain.Event) error) (domain.Hash, uint64, error) {
	var prev domain.Hash
	var seq uint64
	pos, err := j.Replay(ctx, func(r Record) error {
		lines, err := domain.SplitRecord(r.Data)
		if err != nil {
			return fmt.Errorf("record %d: %w: %w", r.Position, ErrCorruptJournal, err)
		}
		for _, line := range lines {
			h, err := domain.VerifyLine(line, prev)
			if err != nil {
				return fmt.Errorf("record %d after sequence %d: %w: %w", r.Position, seq, ErrCorruptJournal, err)
			}
			ev, err := domain.DecodeEvent(line)
			if err != nil {
				return fmt.Errorf("record %d after sequence %d: %w: %w", r.Position, seq, ErrCorruptJournal, err)
			}
			if ev.Seq != seq+1 {
				return fmt.Errorf("record %d: sequence %d follows %d: %w: %w", r.Position, ev.Seq, seq, ErrCorruptJournal, domain.ErrSequenceGap)
			}
			if err := fn(ev); err != nil {
				return fmt.Errorf("record %d: %w", r.Position, err)
			}
			prev, seq = h, ev.Seq
		}
		return nil
	})
	return prev, pos, err
}

func (p *Processor) loop(ctx context.Context) error {
	for {
		msgs, err := p.source.Next(ctx, p.cfg.MaxBatchMessages)
		if err != nil {
			return fmt.Errorf("next commands: %w", err)
		}
		if err := p.process(msgs); err != nil {
			return err
		}
	}
}

// answer is the reply owed to one command message.
type answer struct {
	subject string
	reply   Reply
}

// process decides a batch of command messages, appends their events,
// acknowledges the messages and sends the replies, in that order.
func (p *Processor) process(msgs []CommandMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	now := p.cfg.Now()
	var events []*domain.Event
	answers := make([]answer, 0, len(msgs))
	for _, m := range msgs {
		if m.Seq <= p.lastSeen {
			continue // redelivered after an ack timeout; decided in this run
		}
		p.lastSeen = m.Seq
		env, err := DecodeEnvelope(m.Data)
		if err != nil {
			// A malformed command can never succeed; retrying it would
			// block the ledger. It is acknowledged with the batch and logged.
			p.cfg.Logger.Error("dropping malformed command", "seq", m.Seq, "err", err)
			continue
		}
		a := answer{subject: env.Reply, reply: Reply{ID: env.ID, Results: make([]Result, 0, len(env.Items))}}
		// An atomic envelope some of whose items are in the journal was
		// cut short by a crash mid-append; it had passed as a whole, so its
		// remaining items are decided one by one, in order, from the same
		// state, and pass the same way.
		if env.Atomic && !p.state.Decided(domain.CommandRef{Seq: m.Seq, Item: 0}) {
			events = p.decideAtomic(m.Seq, env, &a, now, events)
			answers = append(answers, a)
			continue
		}
		for i, it := range env.Items {
			ref := domain.CommandRef{Seq: m.Seq, Item: i}
			if p.state.Decided(ref) {
				// Redelivered after a crash between the journal append and
				// the ack: its events are in the journal already.
				a.subject = ""
				continue
			}
			d := p.state.Decide(it.command(ref), now)
			if d.Event != nil {
				events = append(events, d.Event)
			}
			a.reply.Results = append(a.reply.Results, resultOf(d))
		}
		answers = append(answers, a)
	}
	if len(events) > 0 {
		records, last, err := EncodeRecords(events, p.lastHash, p.cfg.MaxRecordEvents, p.cfg.MaxRecordBytes)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
		pos, err := p.journal.Append(ctx, records, p.position)
		cancel()
		if err != nil {
			return fmt.Errorf("append %d events: %w", len(events), err)
		}
		p.position, p.lastHash = pos, last
		p.seq.Store(p.state.Seq())
	}
	if err := msgs[len(msgs)-1].Ack(); err != nil {
		// Harmless: the commands come back and are recognised as decided.
		p.cfg.Logger.Warn("ack commands", "err", err)
	}
	for _, a := range answers {
		if a.subject == "" {
			continue
		}
		data, err := json.Marshal(a.reply)
		if err != nil {
			return fmt.Errorf("encode reply: %w", err)
		}
		if err := p.notifier.Notify(a.subject, data); err != nil {
			p.cfg.Logger.Warn("notify", "subject", a.subject, "err", err)
		}
	}
	return nil
}

// decideAtomic decides an all-or-nothing envelope.
func (p *Processor) decideAtomic(seq uint64, env *Envelope, a *answer, now time.Time, events []*domain.Event) []*domain.Event {
	cmds := make([]domain.Command, len(env.Items))
	for i, it := range env.Items {
		cmds[i] = it.command(domain.CommandRef{Seq: seq, Item: i})
	}
	for _, d := range p.state.DecideAtomic(cmds, now) {
		if d.Event != nil {
			events = append(events, d.Event)
		}
		a.reply.Results = append(a.reply.Results, resultOf(d))
	}
	return events
}

// EncodeRecords chains events after prev and packs them into journal
// records: runs of consecutive events of one type, each record bounded by
// maxEvents and maxBytes. It returns the records and the last hash.
func EncodeRecords(events []*domain.Event, prev domain.Hash, maxEvents, maxBytes int) ([]Record, domain.Hash, error) {
	var records []Record
	var cur *Record
	var n int
	for _, ev := range events {
		if cur == nil || cur.Type != ev.Type || n >= maxEvents || len(cur.Data) >= maxBytes {
			records = append(records, Record{Type: ev.Type, FirstSeq: ev.Seq})
			cur, n = &records[len(records)-1], 0
		}
		var err error
		cur.Data, prev, err = domain.AppendEvent(cur.Data, ev, prev)
		if err != nil {
			return nil, prev, err
		}
		cur.LastSeq = ev.Seq
		n++
	}
	return records, prev, nil
}
