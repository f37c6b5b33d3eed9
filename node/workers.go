package node

import (
	"context"
	"path/filepath"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/projections"
)

// newWorkers builds what the node's roles run (run starts them): the
// API's submitter; the processor, with its command source, journal and
// snapshot store; the projector. A node without the processor follows
// the one elsewhere through JetStream (remote.go).
func (n *Node) newWorkers(ctx context.Context, cfg Config) error {
	if cfg.Roles.Has(RoleProcessor) {
		n.journal = &trackedJournal{Journal: infra.NewJournal(n.JS, n.Names)}
	}
	n.newMetrics()
	if cfg.Roles.Has(RoleAPI) {
		// The API's submitter is made before the processor: the
		// processor answers it in memory, other API instances over NATS
		// (ADR 0015).
		var err error
		if n.submitter, err = infra.NewSubmitter(n.NC, n.JS, n.Names, cfg.GroupCommit); err != nil {
			return err
		}
		n.cleanups = append(n.cleanups, func() { _ = n.submitter.Close() })
	}
	if cfg.Roles.Has(RoleProcessor) {
		if err := n.newProcessor(ctx, cfg); err != nil {
			return err
		}
	} else {
		remote, err := newRemoteDecisions(ctx, n.JS, n.Names, cfg.Logger)
		if err != nil {
			return err
		}
		n.remote, n.dec = remote, remote
	}
	if cfg.Roles.runsProjector() {
		n.projector = projections.NewProjector(n.Store, n.NC, n.Names, cfg.Logger)
		n.projector.TraceWith(cfg.Tracer)
	}
	return nil
}

// newProcessor builds the processor, which answers the submitter of this
// node in memory and those of other nodes over core NATS.
func (n *Node) newProcessor(ctx context.Context, cfg Config) error {
	source := infra.NewCommandSource(n.JS, n.Names)
	n.cleanups = append(n.cleanups, source.Close)
	snapshots, err := infra.EnsureSnapshotStore(ctx, n.JS, n.Names, n.replicas)
	if err != nil {
		return err
	}
	archive, err := infra.OpenIDArchive(filepath.Join(cfg.DataDir, infra.IDArchiveDir))
	if err != nil {
		return err
	}
	n.cleanups = append(n.cleanups, func() { _ = archive.Close() })
	n.snapObs = &snapshotObserver{Metrics: n.metrics, last: time.Now()}
	var notifier commands.Notifier = infra.NewNotifier(n.NC)
	if n.submitter != nil {
		notifier = infra.NewLocalNotifier(n.NC, n.submitter)
	}
	if n.lease, err = infra.EnsureLease(ctx, n.JS, n.Names, infra.LeaseConfig{ID: processorID(cfg), Replicas: n.replicas, Logger: cfg.Logger}); err != nil {
		return err
	}
	n.proc = commands.New(n.journal, source, notifier, commands.Config{Logger: cfg.Logger,
		Snapshots: snapshots, SnapshotEvery: cfg.SnapshotEvery, SkipLostThrough: cfg.SkipLostCommands, Observer: n.snapObs, Tracer: cfg.Tracer, Elector: n.lease,
		Archive: archive, HotIDs: cfg.HotIDs})
	if n.follow, err = newRemoteDecisions(ctx, n.JS, n.Names, cfg.Logger); err != nil {
		return err
	}
	n.dec = electedDecisions{proc: n.proc, follow: n.follow}
	return nil
}
