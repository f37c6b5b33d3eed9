package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// An audit's entry point and its options: Run reads a source through the
// pipeline (pipeline.go) and the engine (engine.go) checks it.

// ErrFailed means the journal failed a check. Run does not return it (its
// report says so); the commands that must stop at the first failure do.
var ErrFailed = errors.New("journal failed the audit")

// DefaultMaxFindings bounds the findings a report lists; every failure is
// counted in its check either way.
const DefaultMaxFindings = 100

// Head is a point of the chain that the auditor trusts, recorded from an
// earlier audit or from the running ledger: the journal must end at Seq
// with Hash. It is what detects a journal that was truncated, extended
// with forged events or rewritten wholesale with a recomputed chain: a
// SHA-256 chain proves that nothing changed relative to a hash one
// trusts, not on its own.
type Head struct {
	Seq  uint64
	Hash domain.Hash
}

// ParseHead reads "SEQ:HASH".
func ParseHead(s string) (Head, error) {
	seqStr, hashStr, ok := strings.Cut(s, ":")
	if !ok {
		return Head{}, fmt.Errorf("expected head %q: want SEQ:HASH", s)
	}
	seq, err := strconv.ParseUint(seqStr, 10, 64)
	if err != nil || seq == 0 {
		return Head{}, fmt.Errorf("expected head %q: the sequence must be a positive integer", s)
	}
	h, err := domain.ParseHash(hashStr)
	if err != nil {
		return Head{}, fmt.Errorf("expected head %q: %w", s, err)
	}
	return Head{Seq: seq, Hash: h}, nil
}

// Options tune a run. The zero value audits the whole journal.
type Options struct {
	// ReadModel, when set, is compared with the recomputed state at its
	// checkpoint; ReadModelPath names it in the report.
	ReadModel     *projections.Snapshot
	ReadModelPath string
	// ExpectHead, when set, is the head the journal must end at.
	ExpectHead *Head
	// Checkpoints are points the journal must pass through (at most
	// 10,000); PublicKey, when set, is the ledger's checkpoint key, and
	// every checkpoint must then be signed with it.
	Checkpoints []domain.Checkpoint
	PublicKey   ed25519.PublicKey
	// AllowPartial accepts a source whose first line is not sequence 1
	// (an export of a range): its chain is checked from the first line's
	// prev_hash, and the checks that need the whole history are skipped.
	AllowPartial bool
	// UntilSeq stops after this sequence; UntilTime after the last event
	// at or before this time (event times clamped to be monotonic, as the
	// read model's clock does). Zero: the journal's end.
	UntilSeq  uint64
	UntilTime time.Time
	// OnChunk, when set, is called with each chunk's events once they are
	// checked, in order. Run stops with an error wrapping ErrFailed at the
	// first chunk with a failure, before passing it on. The events are
	// OnChunk's to keep; their strings are views of the chunk's lines.
	OnChunk func(c Chunk, events []*domain.Event) error
	// Progress, when set, is called with the number of lines after each
	// chunk.
	Progress func(lines int)
	// Workers verify and decode lines in parallel (GOMAXPROCS when 0).
	Workers int
	// SizeHint is about how many events the journal holds, to size the
	// books up front; 0 when unknown.
	SizeHint uint64
	// MaxFindings bounds the findings listed (DefaultMaxFindings when 0).
	MaxFindings int
}

// Result is an audit's report and the books it recomputed (as of the last
// event read).
type Result struct {
	Report *Report
	Books  *Books
}

// errStop ends a run early at UntilSeq or UntilTime.
var errStop = errors.New("stop")

// Run reads src from its first line and checks everything the report
// lists. It returns an error only when it could not read the journal (or
// OnChunk failed); a journal that fails a check is a report with OK false.
func Run(ctx context.Context, src Source, opts Options) (*Result, error) {
	if opts.MaxFindings <= 0 {
		opts.MaxFindings = DefaultMaxFindings
	}
	if h, ok := src.(sizeHinter); ok && opts.SizeHint == 0 {
		opts.SizeHint = h.sizeHint()
	}
	e := newEngine(ctx, opts, src.String())
	start := time.Now()
	if len(opts.Checkpoints) > 0 || opts.PublicKey != nil {
		cps, err := newCheckpoints(opts.Checkpoints, opts.PublicKey, e.find)
		if err != nil {
			return nil, err
		}
		e.cps = cps
	}
	if opts.ReadModel != nil {
		rmCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		e.rm = startReadModel(rmCtx, opts.ReadModel, opts.ReadModelPath)
		defer e.rm.stop()
		if e.rm.cp == 0 {
			if err := e.rm.compareState(ctx, e.books, e.find); err != nil {
				return nil, err
			}
		}
	}
	// Without OnChunk, no event outlives its chunk's consume: the
	// pipeline may reuse their room.
	cs, withCommands := src.(commandsStater)
	var before *CommandsInfo
	if withCommands {
		var err error
		if before, err = cs.CommandsState(ctx); err != nil {
			return nil, err
		}
	}
	// Without a read model to compare (which reads each posting's event)
	// either, a posting the posting reader takes needs no event at all.
	reuse := opts.OnChunk == nil
	err := pipeline(ctx, src, 1, opts.Workers, &e.books.idSeeds, reuse, reuse && e.rm == nil && compactPostings, e.consume)
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if before != nil && !e.partial && err == nil {
		after, err := cs.CommandsState(ctx)
		if err != nil {
			return nil, err
		}
		e.commandsStream(before, after)
	}
	e.finish(time.Since(start))
	return &Result{Report: e.rep, Books: e.books}, nil
}
