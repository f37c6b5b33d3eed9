package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// stallCheck is how long the processor waits for a command before it
// checks whether one is stored and not delivered (checkStalled).
const stallCheck = 2 * time.Second

// checkStalled rewinds delivery when the command after the last one
// decided has been stored for two idle checks in a row and was not
// delivered: the server handed it to someone else. A gap shows this at
// once when a later command arrives; with no later command, the command
// would wait in the consumer's pending list for the whole ack wait
// (2 minutes). It happens after a failover: a processor frozen while it
// held the lease (SIGSTOP) leaves pull requests at the server that take
// commands until they expire (ADR 0026). *stall is the command found
// stored at the previous check (0: none).
func (p *Processor) checkStalled(ctx context.Context, stall *uint64) error {
	next := p.lastSeen + 1
	stored, err := p.source.Stored(ctx, next)
	if err != nil {
		p.cfg.Logger.Warn("stall check", "err", err)
		return nil
	}
	switch {
	case !stored:
		*stall = 0
	case *stall != next:
		*stall = next
	default:
		*stall = 0
		p.cfg.Logger.Warn("a stored command was not delivered; delivery starts again", "command", next)
		return p.resync(ctx)
	}
	return nil
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
	start, err := commandsStart(cs, p.state.LastCommand().Seq)
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
	if err := p.append(records, last); err != nil {
		return fmt.Errorf("%d lost commands: %w", len(events), err)
	}
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
	if cs.AckFloor > lastCmd {
		// Acknowledged, yet answered by no event: the processor
		// acknowledges only what it journaled and every message leaves
		// an event (ADR 0011), so these were deleted undecided. The
		// server moves a consumer's floor over a message deleted after
		// it was delivered; trusting the floor would skip the loss.
		return 0, &LostCommandsError{From: lastCmd + 1, To: cs.AckFloor}
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
