package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/infra"
)

// checkpointTimeout bounds one checkpoint's signing and append.
const checkpointTimeout = 10 * time.Second

// checkpointer signs the processor's head into the checkpoint stream: on
// demand (POST /v1/checkpoints) and, with an interval, whenever the
// journal has grown since the last one (ADR 0017).
type checkpointer struct {
	log  *infra.Checkpoints
	proc *commands.Processor // nil on a node without the processor: it signs nothing
	lg   *slog.Logger

	mu      sync.Mutex // one signing at a time, so the stream's order is the journal's
	lastSeq uint64     // the sequence of the last checkpoint this node took
	// witness, when set, is a file each checkpoint is appended to as a
	// JSON line, for the operator to ship where the ledger cannot reach.
	witness string
}

var _ api.Checkpointer = (*checkpointer)(nil)

// errNoProcessorHere is why a node without the processor signs no
// checkpoint: the head it would sign is the processor's to vouch for (it
// has verified the chain up to it).
var errNoProcessorHere = fmt.Errorf("%w on this node: it runs no processor; a processor node signs checkpoints (--checkpoint-interval)", api.ErrNothingToSign)

// startCheckpoints loads (or creates) the signing key, on a processor
// node, and the stream.
func (n *Node) startCheckpoints(ctx context.Context, cfg Config) error {
	if n.proc == nil {
		log, err := infra.EnsureCheckpoints(ctx, n.JS, n.Names, nil, n.replicas)
		if err != nil {
			return err
		}
		n.checkpoints = &checkpointer{log: log, lg: cfg.Logger}
		return nil
	}
	path := cfg.CheckpointKeyFile
	if path == "" {
		path = infra.DefaultCheckpointKeyFile(cfg.DataDir)
	}
	key, created, err := infra.LoadOrCreateCheckpointKey(path)
	if err != nil {
		return err
	}
	if created {
		cfg.Logger.Info("checkpoint signing key created: publish its public key to whoever verifies checkpoints", "key", path, "public_key", path+".pub")
	}
	log, err := infra.EnsureCheckpoints(ctx, n.JS, n.Names, key, n.replicas)
	if err != nil {
		return err
	}
	n.checkpoints = &checkpointer{log: log, proc: n.proc, lg: cfg.Logger, witness: cfg.CheckpointFile}
	return nil
}

// Create signs the journal's head now.
func (c *checkpointer) Create(ctx context.Context) (api.CheckpointView, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sign(ctx)
}

func (c *checkpointer) sign(ctx context.Context) (api.CheckpointView, error) {
	if c.proc == nil {
		return api.CheckpointView{}, errNoProcessorHere
	}
	head := c.proc.Head()
	if !c.proc.Ready() || head.Seq == 0 {
		return api.CheckpointView{}, api.ErrNothingToSign
	}
	ctx, cancel := context.WithTimeout(ctx, checkpointTimeout)
	defer cancel()
	cp, err := c.log.Sign(ctx, head.Seq, head.Hash, time.Now())
	if err != nil {
		return api.CheckpointView{}, err
	}
	c.lastSeq = head.Seq
	v := view(cp)
	if c.witness != "" {
		if err := appendWitness(c.witness, v); err != nil {
			// Stored and served all the same: the file is a copy.
			c.lg.Error("checkpoint file", "err", err)
		}
	}
	return v, nil
}

// appendWitness appends v to path as one JSON line and syncs it. The file
// grows by one line (about 400 bytes) a checkpoint: at the default
// interval at most 210 MB a year; rotate it as a log.
func appendWitness(path string, v api.CheckpointView) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Latest returns the newest checkpoint.
func (c *checkpointer) Latest(ctx context.Context) (api.CheckpointView, error) {
	cp, err := c.log.Latest(ctx)
	if errors.Is(err, infra.ErrNoCheckpoint) {
		return api.CheckpointView{}, api.ErrNoCheckpoint
	}
	return view(cp), err
}

// List returns a page of checkpoints, oldest first.
func (c *checkpointer) List(ctx context.Context, after uint64, limit int) ([]api.CheckpointView, bool, error) {
	list, err := c.log.List(ctx, after, limit+1)
	if err != nil {
		return nil, false, err
	}
	more := len(list) > limit
	out := make([]api.CheckpointView, 0, min(len(list), limit))
	for _, cp := range list[:min(len(list), limit)] {
		out = append(out, view(cp))
	}
	return out, more, nil
}

func view(cp infra.Checkpoint) api.CheckpointView {
	return api.CheckpointView{Seq: cp.Seq, Hash: cp.Hash, Time: cp.Time, Signature: cp.Signature,
		PublicKey: cp.PublicKey, Checkpoint: cp.Checkpoint, Position: cp.Position}
}

// run signs the head every interval when the journal has grown since the
// last checkpoint, until ctx ends.
func (c *checkpointer) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		if c.proc.Ready() && c.proc.Head().Seq > c.lastSeq {
			if _, err := c.sign(ctx); err != nil && ctx.Err() == nil {
				c.lg.Warn("checkpoint", "err", fmt.Sprint(err))
			}
		}
		c.mu.Unlock()
	}
}
