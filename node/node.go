// Package node assembles one ledger process: the embedded NATS server (or
// a connection to an external one), the streams, the processor, the
// projections and the HTTP handler, each as its roles ask (roles.go).
// ledger serve runs a Node, and end-to-end tests run the same Node
// in-process.
package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/metrics"
	"github.com/nats-ledger/ledger/infra/webhook"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/projections"
	"github.com/nats-ledger/ledger/subscriber"
)

// Config configures a Node.
type Config struct {
	DataDir    string
	NATSListen string // empty: the embedded NATS takes no network connections
	// NATS, when it names servers, connects to that external NATS instead
	// of starting the embedded server (docs/operations.md, "Topologies").
	NATS infra.ClientConfig
	// Roles are the parts of the ledger this node runs; empty: all of
	// them, the all-in-one ledger. Any other set needs an external NATS.
	Roles Roles
	// Replicas is every stream's, bucket's and object store's replica
	// count (1 when zero); AllowR1 lets a node start with 1 on a NATS
	// cluster, which it otherwise refuses (ADR 0025).
	Replicas int
	AllowR1  bool
	// StallLimit is how long the read model may stay behind the journal
	// applying nothing before the node fails (stall.go);
	// DefaultStallLimit when zero.
	StallLimit  time.Duration
	Ledger      string // ledger name; "default" when empty
	SyncAlways  bool
	SyncTimeout time.Duration // api.DefaultSyncTimeout when zero
	ReadWait    time.Duration // how long reads wait for the read model to apply acknowledged writes; 2 s when zero
	MaxReadLag  int           // events the read model may lag acknowledged writes before writes wait; api.DefaultMaxReadLag when zero
	// SkipLostCommands is the operator's word that accepted commands up to
	// this sequence that are missing from the commands stream are lost:
	// they are journaled as skipped instead of stopping the processor
	// (docs/operations.md, "Commands stream"). Zero: never.
	SkipLostCommands uint64
	Logger           *slog.Logger
	// SnapshotEvery is the number of events after which the processor
	// takes a snapshot; commands.Config's default (500,000) when zero.
	SnapshotEvery uint64
	// HotIDs is the most posted transfer ids the processor keeps in
	// memory; the rest are in DATA_DIR/postedids (ADR 0027). Zero: the
	// processor's default, a million.
	HotIDs int

	// Authentication. With nothing configured, an HS256 signing key is
	// generated in the data directory at first start (see KeyCreated).
	AdminToken      string  // a static admin bearer token (LEDGER_ADMIN_TOKEN)
	KeyFile         string  // HS256 key file; auth.DefaultKeyFile(DataDir) when empty
	RSAPublicKeyPEM []byte  // optional RS256 verification key
	JWKSURL         string  // optional JWKS endpoint
	RateLimit       float64 // requests per second per non-admin token; 0: unlimited

	// GroupCommit bounds how concurrent single requests are coalesced
	// into one command message; zero values take the defaults.
	GroupCommit infra.GroupCommit

	// EventStream bounds GET /v1/events; zero values take the defaults.
	EventStream api.EventStreamConfig
	// Webhooks configures webhook delivery; zero values take the
	// defaults, which refuse loopback and private addresses.
	Webhooks webhook.Config

	// CheckpointKeyFile holds the Ed25519 key that signs checkpoints
	// (created at first start; DATA_DIR/checkpoint.key when empty).
	// CheckpointInterval signs the journal's head that often when it has
	// grown; zero: only on demand (POST /v1/checkpoints).
	CheckpointKeyFile  string
	CheckpointInterval time.Duration
	// CheckpointFile, when set, receives a copy of every checkpoint as a
	// JSON line: a witness file the operator ships elsewhere.
	CheckpointFile string

	// ProcessorID names this node's processor in the processor lease
	// (ADR 0026): unique among the processors of the ledger. Empty: the
	// host name and the data directory, which a restart on the same host
	// keeps, so that it takes its own lease back at once.
	ProcessorID string

	// Tracer, when set, traces requests, decisions and projection
	// (docs/operations.md, "Traces"); nil: tracing off, no spans and no
	// traceparent headers.
	Tracer trace.Tracer
}

// ReadModelDir is the read models' Pebble directory inside the data
// directory.
const ReadModelDir = "readmodel"

// LegacyReadModelFile is the SQLite read model of earlier releases. Nothing
// reads it: a node that finds it removes it (with its WAL companions)
// once the new store is open, and the projector builds the new store
// from the journal.
const LegacyReadModelFile = "readmodel.db"

// stopTimeout bounds how long Close waits for each component.
const stopTimeout = 30 * time.Second

// Node is a running ledger.
type Node struct {
	Handler http.Handler
	// Core is the native ledger for the seed adapters (api/compat), sharing
	// the handler's admission and read-your-writes mark.
	Core  *api.Core
	NC    *nats.Conn
	JS    jetstream.JetStream
	Names journalio.Names
	Store *projections.Store

	// KeyCreated is true when Start generated the token signing key, at
	// KeyFile: the operator needs to be told how to mint a token.
	KeyCreated bool
	KeyFile    string

	proc        *commands.Processor // nil without the processor role
	dec         decisions           // proc, or remote on a node without one
	remote      *remoteDecisions    // nil on a processor node
	lease       *infra.Lease        // the processor's election (ADR 0026); nil without the processor
	follow      *remoteDecisions    // on a processor node, the active processor's decisions while this one stands by
	roles       Roles
	replicas    int
	hooks       *webhook.Service // nil without the API role
	submitter   *infra.Submitter
	restore     *restoreMark    // what was stored before the start, and when it is decided
	journal     *trackedJournal // the processor's, for GET /v1/status
	projector   *projections.Projector
	checkpoints *checkpointer
	metrics     *metrics.Metrics  // the node's own registry (metrics.go)
	snapObs     *snapshotObserver // when the processor last saved a snapshot
	cpDone      chan struct{}     // closed when the periodic checkpointer stops
	stopWork    context.CancelFunc
	stopProc    context.CancelFunc // the processor's alone (tests: export_test.go)
	procDone    chan error
	projDone    chan error
	failed      chan error
	cleanups    []func()

	// What /readyz reads (status.go): the journal's end as admission
	// counts it, admission's bound on the read model's lag, and whether
	// the processor or the projector has stopped for good.
	journalSeq  func() uint64
	maxReadLag  uint64
	procStopped atomic.Bool
	projStopped atomic.Bool

	streamsDone  chan struct{} // closed by CloseStreams
	closeStreams sync.Once
}

// Start brings a ledger up on cfg.DataDir. The processor and projector run
// in the background until Close; Failed reports if one stops on its own.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Ledger == "" {
		cfg.Ledger = "default"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Webhooks.Logger == nil {
		cfg.Webhooks.Logger = cfg.Logger
	}
	if err := cfg.checkRoles(); err != nil {
		return nil, err
	}
	n := &Node{Names: journalio.NamesFor(cfg.Ledger), failed: make(chan error, 2), maxReadLag: uint64(api.DefaultMaxReadLag),
		roles: cfg.Roles, replicas: max(cfg.Replicas, 1)}
	if cfg.MaxReadLag > 0 {
		n.maxReadLag = uint64(cfg.MaxReadLag)
	}
	started := false
	defer func() {
		if !started {
			n.runCleanups()
		}
	}()
	release, err := infra.LockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	n.cleanups = append(n.cleanups, release)
	var authn api.Authenticator
	if cfg.Roles.Has(RoleAPI) {
		if authn, err = n.authenticator(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if err := n.startNATS(ctx, cfg); err != nil {
		return nil, err
	}
	// Before anything runs or is served: where the journal ends and what
	// is stored and undecided (restore.go).
	start, err := readStartPosition(ctx, n.JS, n.Names, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("start position: %w", err)
	}
	n.restore = newRestoreMark(start)
	if start.undecidedMsgs > 0 {
		cfg.Logger.Info("commands stored before the start are not decided yet", "msgs", start.undecidedMsgs,
			"items", start.undecidedItems, "last", start.commandsLast)
	}
	if cfg.Roles.runsProjector() {
		if n.Store, err = openReadModel(cfg.DataDir, cfg.Logger); err != nil {
			return nil, fmt.Errorf("read model: %w", err)
		}
		n.cleanups = append(n.cleanups, func() { _ = n.Store.Close() })
	}
	if err := n.newWorkers(ctx, cfg); err != nil {
		return nil, err
	}
	if err := n.startCheckpoints(ctx, cfg); err != nil {
		return nil, err
	}
	// The journal's end and what is stored and undecided count from the
	// start, whatever the processor is doing (ADR 0009).
	n.journalSeq = func() uint64 { return max(start.journalSeq, n.dec.Seq()) }
	if !cfg.Roles.Has(RoleAPI) {
		n.Handler = n.healthHandler()
	} else if err := n.newHandler(ctx, cfg, authn, start); err != nil {
		return nil, err
	}
	started = true
	n.run(ctx, cfg.CheckpointInterval, cmp.Or(cfg.StallLimit, DefaultStallLimit))
	return n, nil
}

// newHandler builds the submitter, the webhook deliverer and the HTTP
// handler over them.
func (n *Node) newHandler(ctx context.Context, cfg Config, authn api.Authenticator, start startPosition) error {
	submitter := n.submitter
	cfg.Webhooks.Observer = n.metrics
	cfg.Webhooks.Replicas = n.replicas
	// On an external NATS other API nodes may serve the same ledger:
	// exactly one delivers, the holder of the lease (ADR 0025).
	cfg.Webhooks.Exclusive = cfg.external()
	hooks, err := webhook.Start(ctx, n.NC, n.Names.Ledger, cfg.Webhooks)
	if err != nil {
		return err
	}
	n.hooks = hooks
	n.cleanups = append(n.cleanups, hooks.Close)
	n.streamsDone = make(chan struct{})
	cfg.EventStream.Done = n.streamsDone
	n.Handler, n.Core = api.NewWithCore(api.Config{
		SyncTimeout: cfg.SyncTimeout,
		ReadWait:    cfg.ReadWait,
		MaxReadLag:  cfg.MaxReadLag,
		JournalSeq:  n.journalSeq,
		Undecided:   n.undecided(submitter),
		StartSeq:    start.journalSeq,
		Restored:    n.restored,
		Ready:       n.Ready,
		Auth:        authn,
		RateLimit:   cfg.RateLimit,
		Logger:      cfg.Logger,
		Tracer:      cfg.Tracer,
		Events:      subscriber.NewFeed(n.NC, n.Names.Ledger, cfg.Logger),
		EventStream: cfg.EventStream,
		Webhooks:    hooks,
		Status:      n.status,
		Locate: func(ctx context.Context, seq uint64) (journalio.Location, error) {
			return journalio.Locate(ctx, n.JS, n.Names, seq)
		},
		Checkpoints: n.checkpoints,
		Metrics:     n.metrics.Handler(),
		Observer:    n.metrics,
	}, submitter, n.Store)
	return nil
}

// run starts the processor and the projector, as the node's roles ask,
// which run until Close cancels them, whatever becomes of ctx.
func (n *Node) run(ctx context.Context, checkpointEvery, stallLimit time.Duration) {
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	n.stopWork = stopWork
	n.procDone, n.projDone = make(chan error, 1), make(chan error, 1)
	procCtx, stopProc := context.WithCancel(workCtx)
	n.stopProc = stopProc
	n.cpDone = make(chan struct{})
	go func() {
		defer close(n.cpDone)
		switch {
		case n.remote != nil:
			n.remote.run(workCtx)
		case checkpointEvery > 0:
			n.checkpoints.run(workCtx, checkpointEvery)
		}
	}()
	if n.follow != nil {
		go n.follow.run(workCtx)
	}
	if n.proc != nil {
		n.runWorker(workCtx, "processor", n.procDone, &n.procStopped, func() error { return n.proc.Run(procCtx) })
	} else {
		n.procDone <- nil
	}
	if n.projector != nil {
		n.runWorker(workCtx, "projections", n.projDone, &n.projStopped, func() error {
			watchCtx, stopWatch := context.WithCancel(workCtx)
			defer stopWatch()
			go n.watchProjector(watchCtx, stallLimit)
			return n.projector.Run(workCtx)
		})
	} else {
		n.projDone <- nil
	}
}

// runWorker runs work until it returns, when workCtx ends or on its own,
// which Failed reports.
func (n *Node) runWorker(workCtx context.Context, name string, done chan error, stopped *atomic.Bool, work func() error) {
	go func() {
		err := work()
		stopped.Store(true)
		done <- err
		if workCtx.Err() == nil {
			n.failed <- fmt.Errorf("%s stopped: %w", name, err)
		}
	}()
}

// Failed delivers an error if the processor or the projector stops while
// the node is meant to be running.
func (n *Node) Failed() <-chan error { return n.failed }

// CloseStreams ends every open GET /v1/events stream. (A stream also ends
// when the http.Server serving it shuts down.) Close calls it.
func (n *Node) CloseStreams() {
	n.closeStreams.Do(func() {
		if n.streamsDone != nil {
			close(n.streamsDone)
		}
	})
}

// Close stops the processor after its batch in flight, then the projector,
// then NATS, and releases the data directory. Stop the HTTP server first so
// that in-flight requests still get their outcomes.
func (n *Node) Close() error {
	n.CloseStreams()
	n.stopWork()
	var err error
	timeout := time.After(stopTimeout)
	for _, ch := range []chan error{n.procDone, n.projDone} {
		select {
		case e := <-ch:
			if e != nil && err == nil {
				err = e
			}
		case <-timeout:
			err = errors.New("components did not stop in time")
		}
	}
	select {
	case <-n.cpDone:
	case <-timeout:
	}
	n.runCleanups()
	return err
}

func (n *Node) runCleanups() {
	for i := len(n.cleanups) - 1; i >= 0; i-- {
		n.cleanups[i]()
	}
	n.cleanups = nil
}
