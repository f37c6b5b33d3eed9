package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	// MaxAtomicRecordBytes bounds the record of one atomic batch, which is
	// not split at MaxRecordBytes (default domain.MaxAtomicRecordBytes,
	// which domain.DecideAtomic keeps every atomic batch under).
	MaxAtomicRecordBytes int
	// Now is the clock that stamps events (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger

	// Snapshots keeps the processor's snapshots; nil disables them, and
	// every start-up replays the whole journal.
	Snapshots SnapshotStore
	// SnapshotEvery is the number of events after which a snapshot is
	// taken (default 1,000,000).
	SnapshotEvery uint64
	// SnapshotInterval is the longest time between snapshots while events
	// arrive (default 5 minutes). Nothing is taken while nothing changes.
	SnapshotInterval time.Duration
	// SnapshotsKept is how many snapshots are kept (default 3): the older
	// ones are what a start-up falls back to if the newest is damaged.
	SnapshotsKept int
	// MaxSnapshotBytes bounds the size of a snapshot read at start-up
	// (default 64 GiB).
	MaxSnapshotBytes int64

	// SkipLostThrough is the operator's word that accepted commands up to
	// this sequence which are no longer in the commands stream (deleted
	// before they were decided) are lost: they are journaled as
	// CommandSkipped (lost) instead of stopping the processor. Zero: a
	// lost command always stops it (ErrCommandsLost).
	SkipLostThrough uint64
}

const (
	defaultMaxBatchMessages = 256
	defaultMaxRecordEvents  = 1_000
	defaultMaxRecordBytes   = 1 << 20
	defaultMaxAtomicBytes   = domain.MaxAtomicRecordBytes
	// appendTimeout bounds one journal append. It outlives a shutdown
	// signal so that a batch in flight is finished, not abandoned.
	appendTimeout = 30 * time.Second
	// restartBackoffMax caps the wait between rebuilds after a failure.
	restartBackoffMax = 5 * time.Second

	defaultSnapshotEvery    = 1_000_000
	defaultSnapshotInterval = 5 * time.Minute
	defaultSnapshotsKept    = 3
	defaultMaxSnapshotBytes = 64 << 30
	// snapshotSaveTimeout bounds writing one snapshot to the store.
	snapshotSaveTimeout = 30 * time.Minute
	// snapshotPoll is how often an idle processor looks whether the
	// snapshot being written has finished, when another is due.
	snapshotPoll = 250 * time.Millisecond
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
	if c.MaxAtomicRecordBytes <= 0 {
		c.MaxAtomicRecordBytes = defaultMaxAtomicBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = defaultSnapshotEvery
	}
	if c.SnapshotInterval <= 0 {
		c.SnapshotInterval = defaultSnapshotInterval
	}
	if c.SnapshotsKept <= 0 {
		c.SnapshotsKept = defaultSnapshotsKept
	}
	if c.MaxSnapshotBytes <= 0 {
		c.MaxSnapshotBytes = defaultMaxSnapshotBytes
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
	position uint64    // journal position of the last record
	lastSeen uint64    // the last command message decided since the rebuild
	snapSeq  uint64    // sequence of the last snapshot taken or restored
	snapAt   time.Time // when it was taken, or the processor started

	// The snapshot being written, if any, on its own goroutine.
	snapBusy  atomic.Bool
	snapSaved atomic.Uint64 // sequence of the last snapshot stored or restored
	snapWG    sync.WaitGroup
	snapCtx   context.Context

	ready   atomic.Bool
	seq     atomic.Uint64 // last ledger sequence appended, for readiness checks
	decided atomic.Uint64 // the last command message decided and journaled
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

// Decided returns the stream sequence of the last command message whose
// items are decided and journaled (0 until the first batch after start).
func (p *Processor) Decided() uint64 { return p.decided.Load() }

// Run rebuilds the state from the journal and decides commands until ctx
// ends, then returns nil after finishing the batch in flight. When an
// append fails or is fenced, the state may be ahead of the journal, so it
// is thrown away and rebuilt. A journal that fails verification is fatal:
// Run returns an error wrapping ErrCorruptJournal. So is a commands stream
// that does not fit the journal (ErrCommandsLost, ErrCommandsRenumbered).
func (p *Processor) Run(ctx context.Context) error {
	// A snapshot in progress when Run returns is abandoned, not left to
	// outlive the connection it writes on; the next one replaces it.
	var stopSnapshots context.CancelFunc
	p.snapCtx, stopSnapshots = context.WithCancel(context.WithoutCancel(ctx))
	defer p.snapWG.Wait()
	defer stopSnapshots()
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
		if errors.Is(err, ErrCorruptJournal) || errors.Is(err, ErrCommandsLost) || errors.Is(err, ErrCommandsRenumbered) {
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

// rebuild replaces the state with one restored from the newest good
// snapshot and the journal after it, or from the whole journal.
func (p *Processor) rebuild(ctx context.Context) error {
	start := time.Now()
	r, err := Restore(ctx, p.journal, p.cfg.Snapshots, p.cfg.MaxSnapshotBytes, p.cfg.Logger)
	if err != nil {
		return err
	}
	cs, err := p.source.Rewind(ctx)
	if err != nil {
		return fmt.Errorf("rewind commands: %w", err)
	}
	from, err := commandsStart(cs, r.State.CommandSeq())
	lost := p.skippable(err)
	if lost != nil {
		from, err = lost.To, nil
	}
	if err != nil {
		return err
	}
	p.state, p.lastHash, p.position, p.lastSeen = r.State, r.LastHash, r.Position, from
	p.seq.Store(r.State.Seq())
	if lost != nil {
		if err := p.journalLost(lost); err != nil {
			return err
		}
	}
	p.decided.Store(max(p.decided.Load(), from))
	// The next snapshot is due counting from the newest one there is.
	if p.snapSeq > r.State.Seq() {
		p.snapSeq = 0
	}
	p.snapSeq = max(p.snapSeq, r.Snapshot)
	p.snapSaved.Store(p.snapSeq)
	if p.snapAt.IsZero() {
		p.snapAt = start
	}
	p.cfg.Logger.Info("processor state rebuilt", "events", r.State.Seq(), "position", r.Position, "elapsed", time.Since(start))
	return nil
}

// Rebuild reads and verifies the whole journal into a fresh state. It
// returns the state, the last event's hash and the last record's position.
// It checks what ReadEvents checks, on two cores (see rebuild.go).
func Rebuild(ctx context.Context, j Journal) (*domain.State, domain.Hash, uint64, error) {
	st := domain.NewState()
	last, pos, err := replayOnto(ctx, j, 1, st, domain.Hash{}, nil)
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
		p.maybeSnapshot()
		wait, cancel := p.nextWait(ctx)
		msgs, err := p.source.Next(wait, p.cfg.MaxBatchMessages)
		cancel()
		if err != nil {
			if ctx.Err() == nil && wait.Err() != nil {
				continue // a snapshot is due
			}
			return fmt.Errorf("next commands: %w", err)
		}
		err = p.process(msgs)
		if errors.Is(err, errCommandGap) {
			// The state is the journal's: only delivery starts again.
			p.cfg.Logger.Warn("command delivery starts again after a gap", "err", err)
			err = p.resync(ctx)
		}
		if err != nil {
			return err
		}
	}
}

// resync rewinds the command source after a gap in delivery, keeping the
// state, and checks that the command missing from the delivery is still
// in the stream: if not, it was deleted undecided, and delivery would
// stop at the hole forever.
func (p *Processor) resync(ctx context.Context) error {
	cs, err := p.source.Rewind(ctx)
	if err != nil {
		return fmt.Errorf("rewind commands: %w", err)
	}
	start, err := commandsStart(cs, p.state.CommandSeq())
	if lost := p.skippable(err); lost != nil {
		return p.journalLost(lost)
	}
	if err != nil {
		return err
	}
	p.lastSeen = max(p.lastSeen, start)
	missing := p.lastSeen + 1
	if missing > cs.Last {
		return nil
	}
	stored, err := p.source.Stored(ctx, missing)
	if err != nil {
		return err
	}
	if !stored {
		err := &LostCommandsError{From: missing, To: missing}
		if p.skippable(err) != nil {
			return p.journalLost(err)
		}
		return err
	}
	return nil
}

// LostCommandsError names accepted commands that are no longer in the
// commands stream and that no event answers. It wraps ErrCommandsLost.
type LostCommandsError struct{ From, To uint64 }

func (e *LostCommandsError) Error() string {
	return fmt.Sprintf("%v: commands %d to %d were accepted but are no longer in the stream and no event answers them "+
		"(see docs/operations.md, \"Commands stream\")", ErrCommandsLost, e.From, e.To)
}

// Unwrap returns ErrCommandsLost.
func (e *LostCommandsError) Unwrap() error { return ErrCommandsLost }

// maxLostSkipped bounds the lost commands journaled at once: one event
// each, and an operator who names more than this has mistyped.
const maxLostSkipped = 100_000

// skippable returns err's lost commands when the operator said to skip
// them (Config.SkipLostThrough), else nil.
func (p *Processor) skippable(err error) *LostCommandsError {
	var lost *LostCommandsError
	if errors.As(err, &lost) && lost.To <= p.cfg.SkipLostThrough && lost.To-lost.From < maxLostSkipped {
		return lost
	}
	return nil
}

// journalLost appends a CommandSkipped (lost) for each of the lost
// commands, so that the journal accounts for them, and moves delivery past
// them.
func (p *Processor) journalLost(lost *LostCommandsError) error {
	now := p.cfg.Now()
	events := make([]*domain.Event, 0, lost.To-lost.From+1)
	for c := lost.From; c <= lost.To; c++ {
		events = append(events, p.state.Skip(c, 0, domain.SkipLost,
			"no longer in the commands stream when it was to be decided; skipped by the operator", now))
	}
	records, last, err := EncodeRecords(events, p.lastHash, p.cfg.MaxRecordEvents, p.cfg.MaxRecordBytes)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
	pos, err := p.journal.Append(ctx, records, p.position)
	cancel()
	if err != nil {
		return fmt.Errorf("append %d lost commands: %w", len(events), err)
	}
	p.position, p.lastHash = pos, last
	p.seq.Store(p.state.Seq())
	p.lastSeen = max(p.lastSeen, lost.To)
	p.cfg.Logger.Warn("lost commands journaled as skipped", "from", lost.From, "to", lost.To)
	return nil
}

// commandsStart returns the last command message known to be decided
// when delivery starts again from cs's acknowledgement floor: every
// message up to it is acknowledged, answered by an event of the journal
// (whose last decided command is lastCmd), or both. The message lastCmd
// itself may be decided only in part (a crash between the records of one
// batch), so it is not counted unless acknowledged. It refuses a stream
// that lost undecided commands or was renumbered below lastCmd.
func commandsStart(cs CommandsState, lastCmd uint64) (uint64, error) {
	if cs.Last < lastCmd {
		return 0, fmt.Errorf("%w: the stream's last sequence is %d, the journal's last decided command is %d; "+
			"commands accepted since would be taken for decided ones (see docs/operations.md, \"Commands stream\")",
			ErrCommandsRenumbered, cs.Last, lastCmd)
	}
	start := cs.AckFloor
	if lastCmd > 0 {
		start = max(start, lastCmd-1)
	}
	if cs.First > start+1 {
		if cs.First-1 > lastCmd {
			return 0, &LostCommandsError{From: max(start, lastCmd) + 1, To: cs.First - 1}
		}
		start = cs.First - 1
	}
	return start, nil
}

// answer is the reply owed to one command message.
type answer struct {
	subject string
	reply   Reply
}

// errCommandGap means a command message was delivered after a gap in the
// stream's sequences: a message before it was not delivered (a client's
// slow-consumer drop, say). Nothing after the gap is decided or
// acknowledged until delivery starts again from the acknowledged prefix.
var errCommandGap = errors.New("gap in the command sequences delivered")

// batch is what deciding a run of command messages produced.
type batch struct {
	events  []*domain.Event
	wholes  [][2]int // ranges of events (atomic batches) that go into one record each
	answers []answer
	last    int // index of the last message decided; -1 for none
}

// process decides a batch of command messages, appends their events,
// acknowledges the messages and sends the replies, in that order. It
// decides only the messages that follow the last one decided without a
// gap: a message after a gap, and everything after it, is left
// unacknowledged, and process returns errCommandGap once the ones before
// it are journaled.
func (p *Processor) process(msgs []CommandMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	now := p.cfg.Now()
	b := batch{answers: make([]answer, 0, len(msgs)), last: -1}
	var gap error
	for i, m := range msgs {
		if m.Seq <= p.lastSeen {
			b.last = i
			continue // redelivered after an ack timeout; decided in this run
		}
		if m.Seq != p.lastSeen+1 {
			gap = fmt.Errorf("%w: command %d follows %d", errCommandGap, m.Seq, p.lastSeen)
			break
		}
		p.lastSeen, b.last = m.Seq, i
		p.decideMessage(m, now, &b)
	}
	if b.last < 0 {
		return gap
	}
	var lines map[*domain.Event][]byte // each event's journal line, for the replies
	if len(b.events) > 0 {
		records, last, err := p.encode(&b)
		if err != nil {
			return err
		}
		lines = linesOf(b.events, records)
		ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
		pos, err := p.journal.Append(ctx, records, p.position)
		cancel()
		if err != nil {
			return fmt.Errorf("append %d events: %w", len(b.events), err)
		}
		p.position, p.lastHash = pos, last
		p.seq.Store(p.state.Seq())
	}
	done := msgs[b.last]
	p.decided.Store(max(p.decided.Load(), done.Seq))
	if err := done.Ack(); err != nil {
		// Harmless: the commands come back and are recognised as decided.
		p.cfg.Logger.Warn("ack commands", "err", err)
	}
	for _, a := range b.answers {
		if a.subject == "" {
			continue
		}
		data, err := EncodeReply(nil, &a.reply, func(ev *domain.Event) []byte { return lines[ev] })
		if err != nil {
			return err
		}
		if err := p.notifier.Notify(a.subject, data); err != nil {
			p.cfg.Logger.Warn("notify", "subject", a.subject, "err", err)
		}
	}
	return gap
}

// decideMessage decides one command message into b. Every message it
// decides for the first time leaves at least one event: when its items
// changed nothing, a CommandSkipped says so, so that the journal accounts
// for every command acknowledged (docs/audit.md).
func (p *Processor) decideMessage(m CommandMessage, now time.Time, b *batch) {
	before := len(b.events)
	env, err := DecodeEnvelope(m.Data)
	if err != nil {
		// A malformed command can never succeed; retrying it would block
		// the ledger. It is journaled as skipped and acknowledged.
		if !p.state.Decided(domain.SkipRef(m.Seq, 0)) {
			p.cfg.Logger.Error("skipping malformed command", "seq", m.Seq, "err", err)
			b.events = append(b.events, p.state.Skip(m.Seq, 0, domain.SkipMalformed, err.Error(), now))
		}
		return
	}
	a := answer{subject: env.Reply, reply: Reply{ID: env.ID, Results: make([]Result, 0, len(env.Items))}}
	fresh := !p.state.Decided(domain.CommandRef{Seq: m.Seq, Item: len(env.Items) - 1})
	// An atomic envelope some of whose items are in the journal was cut
	// short by a crash mid-append (journals written before atomic batches
	// took one record each); it had passed as a whole, so its remaining
	// items are decided one by one, in order, from the same state, and
	// pass the same way.
	if env.Atomic && !p.state.Decided(domain.CommandRef{Seq: m.Seq, Item: 0}) {
		b.events = p.decideAtomic(m.Seq, env, &a, now, b.events)
		if len(b.events) > before {
			b.wholes = append(b.wholes, [2]int{before, len(b.events)})
		} else {
			b.events = append(b.events, p.state.Skip(m.Seq, len(env.Items), domain.SkipBatchAborted, abortDetail(a.reply.Results), now))
		}
		b.answers = append(b.answers, a)
		return
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
			b.events = append(b.events, d.Event)
		}
		a.reply.Results = append(a.reply.Results, resultOf(d))
	}
	if fresh && len(b.events) == before {
		b.events = append(b.events, p.state.Skip(m.Seq, len(env.Items), domain.SkipUnchanged, "", now))
	}
	b.answers = append(b.answers, a)
}

// abortDetail names the item that made an atomic batch fail.
func abortDetail(rs []Result) string {
	for i, r := range rs {
		if r.Code != domain.CodeBatchAborted {
			return fmt.Sprintf("item %d: %s: %s", i, r.Code, r.Detail)
		}
	}
	return ""
}

// encode chains the batch's events after the last hash and packs them
// into records. An atomic batch's events go into one record of their own,
// whatever MaxRecordEvents and MaxRecordBytes say, so that the journal
// never shows part of one. domain.DecideAtomic refuses a batch whose
// record could outgrow MaxAtomicRecordBytes; one that did all the same
// would be split as any run of events is (a crash between its records
// would then leave a prefix visible until the command is redelivered and
// completed), rather than be refused by the server for ever.
func (p *Processor) encode(b *batch) ([]Record, domain.Hash, error) {
	if len(b.wholes) == 0 {
		return EncodeRecords(b.events, p.lastHash, p.cfg.MaxRecordEvents, p.cfg.MaxRecordBytes)
	}
	var records []Record
	last, at := p.lastHash, 0
	add := func(events []*domain.Event, maxEvents, maxBytes int) error {
		if len(events) == 0 {
			return nil
		}
		rs, h, err := EncodeRecords(events, last, maxEvents, maxBytes)
		records, last = append(records, rs...), h
		return err
	}
	for _, w := range b.wholes {
		if err := add(b.events[at:w[0]], p.cfg.MaxRecordEvents, p.cfg.MaxRecordBytes); err != nil {
			return nil, last, err
		}
		if err := add(b.events[w[0]:w[1]], w[1]-w[0], p.cfg.MaxAtomicRecordBytes); err != nil {
			return nil, last, err
		}
		at = w[1]
	}
	if err := add(b.events[at:], p.cfg.MaxRecordEvents, p.cfg.MaxRecordBytes); err != nil {
		return nil, last, err
	}
	return records, last, nil
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

// recordLineRoom is the room reserved per event when a record is started:
// a posted transfer's line is about 450 bytes without metadata.
const recordLineRoom = 512

// EncodeRecords chains events after prev and packs them into journal
// records: runs of consecutive events of one type, each record bounded by
// maxEvents and maxBytes. It returns the records and the last hash.
func EncodeRecords(events []*domain.Event, prev domain.Hash, maxEvents, maxBytes int) ([]Record, domain.Hash, error) {
	var records []Record
	var cur *Record
	var n int
	for i, ev := range events {
		if cur == nil || cur.Type != ev.Type || n >= maxEvents || len(cur.Data) >= maxBytes {
			// Room for the run of events of this type that may follow in
			// this record, at a typical line's size: growing it line by
			// line cost as much as the lines.
			run := 1
			for run < maxEvents && i+run < len(events) && events[i+run].Type == ev.Type {
				run++
			}
			room := run * recordLineRoom
			records = append(records, Record{Type: ev.Type, FirstSeq: ev.Seq, Data: make([]byte, 0, min(room, maxBytes))})
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

// linesOf maps each event to its line in the records EncodeRecords made
// of them (in order, one '\n'-terminated line per event).
func linesOf(events []*domain.Event, records []Record) map[*domain.Event][]byte {
	m := make(map[*domain.Event][]byte, len(events))
	i := 0
	for _, r := range records {
		for data := r.Data; len(data) > 0 && i < len(events); i++ {
			n := bytes.IndexByte(data, '\n')
			if n < 0 {
				return m
			}
			m[events[i]] = data[:n:n]
			data = data[n+1:]
		}
	}
	return m
}

// nextWait bounds the wait for commands by when a snapshot falls due, if
// events are waiting for one; while one is being written, by a short poll,
// so that a snapshot that fell due meanwhile follows it.
func (p *Processor) nextWait(ctx context.Context) (context.Context, context.CancelFunc) {
	switch {
	case p.cfg.Snapshots == nil || p.state.Seq() == p.snapSeq:
		return ctx, func() {}
	case p.snapBusy.Load():
		return context.WithTimeout(ctx, snapshotPoll)
	}
	return context.WithDeadline(ctx, p.snapAt.Add(p.cfg.SnapshotInterval))
}

// maybeSnapshot takes a snapshot when one is due and none is being
// written. It runs between batches, when the state is exactly the
// journal up to p.position. The processor pauses only while the state is
// copied (domain.State.Image); encoding and storing happen on another
// goroutine.
func (p *Processor) maybeSnapshot() {
	if p.cfg.Snapshots == nil || p.snapBusy.Load() {
		return
	}
	// A snapshot that failed to save is due again, counting from the last
	// one saved; the time trigger then retries it after the interval.
	p.snapSeq = min(p.snapSeq, p.snapSaved.Load())
	seq := p.state.Seq()
	if seq == p.snapSeq || seq-p.snapSeq < p.cfg.SnapshotEvery && time.Since(p.snapAt) < p.cfg.SnapshotInterval {
		return
	}
	start := time.Now()
	im := p.state.Image()
	pause := time.Since(start)
	p.snapSeq, p.snapAt = seq, time.Now()
	p.snapBusy.Store(true)
	p.snapWG.Add(1)
	position, last := p.position, p.lastHash
	go func() {
		defer p.snapWG.Done()
		defer p.snapBusy.Store(false)
		ctx, cancel := context.WithTimeout(p.snapCtx, snapshotSaveTimeout)
		defer cancel()
		start := time.Now()
		n, err := saveSnapshot(ctx, p.cfg.Snapshots, im, position, last, p.cfg.SnapshotsKept)
		if err != nil {
			p.cfg.Logger.Warn("snapshot not saved", "seq", seq, "err", err)
			return
		}
		p.snapSaved.Store(seq)
		p.cfg.Logger.Info("snapshot saved", "seq", seq, "position", position, "bytes", n,
			"pause", pause, "elapsed", time.Since(start))
	}()
}
