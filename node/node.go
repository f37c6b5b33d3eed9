// Package node assembles one ledger process: the embedded NATS server, the
// streams, the processor, the projections and the HTTP handler. ledger
// serve runs a Node, and end-to-end tests run the same Node in-process.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/auth"
	"github.com/nats-ledger/ledger/infra/metrics"
	"github.com/nats-ledger/ledger/infra/webhook"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/projections"
	"github.com/nats-ledger/ledger/subscriber"
)

// Config configures a Node.
type Config struct {
	DataDir     string
	NATSListen  string // empty: the embedded NATS takes no network connections
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
	// HotIDs is the most posted transfer ids the processor keeps in
	// memory; the rest are in DATA_DIR/postedids (ADR 0027). Zero: the
	// processor's default, a million.
	HotIDs int
	Logger *slog.Logger

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

	proc        *commands.Processor
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
	n := &Node{Names: journalio.NamesFor(cfg.Ledger), failed: make(chan error, 2), maxReadLag: uint64(api.DefaultMaxReadLag)}
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
	authn, err := n.authenticator(ctx, cfg)
	if err != nil {
		return nil, err
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
	if n.Store, err = openReadModel(cfg.DataDir, cfg.Logger); err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	n.cleanups = append(n.cleanups, func() { _ = n.Store.Close() })
	if err := n.newWorkers(ctx, cfg); err != nil {
		return nil, err
	}
	if err := n.startCheckpoints(ctx, cfg); err != nil {
		return nil, err
	}
	if err := n.newHandler(ctx, cfg, authn, start); err != nil {
		return nil, err
	}
	started = true
	n.run(ctx, cfg.CheckpointInterval)
	return n, nil
}

// startNATS starts the embedded NATS server, with its users when it
// listens on the network, connects to it and creates the streams.
func (n *Node) startNATS(ctx context.Context, cfg Config) error {
	serverCfg := infra.ServerConfig{DataDir: cfg.DataDir, ListenAddr: cfg.NATSListen, SyncAlways: cfg.SyncAlways}
	if cfg.NATSListen != "" {
		pw, _, err := auth.LoadOrCreateSecret(auth.NATSPasswordFile(cfg.DataDir))
		if err != nil {
			return err
		}
		serverCfg.User, serverCfg.Password = auth.NATSUser, pw
		readerPW, _, err := auth.LoadOrCreateSecret(auth.NATSReaderPasswordFile(cfg.DataDir))
		if err != nil {
			return err
		}
		serverCfg.ReaderUser, serverCfg.ReaderPassword, serverCfg.Ledger = auth.NATSReaderUser, readerPW, cfg.Ledger
	}
	_, nc, stopNATS, err := infra.StartServer(serverCfg)
	if err != nil {
		return err
	}
	n.cleanups = append(n.cleanups, stopNATS)
	n.NC = nc
	if n.JS, err = jetstream.New(nc); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	return infra.EnsureStreams(ctx, n.JS, n.Names)
}

// newWorkers builds the processor, with its command source, journal and
// snapshot store, and the projector; run starts them.
func (n *Node) newWorkers(ctx context.Context, cfg Config) error {
	source := infra.NewCommandSource(n.JS, n.Names)
	n.cleanups = append(n.cleanups, source.Close)
	snapshots, err := infra.EnsureSnapshotStore(ctx, n.JS, n.Names, 1)
	if err != nil {
		return err
	}
	n.journal = &trackedJournal{Journal: infra.NewJournal(n.JS, n.Names)}
	archive, err := infra.OpenIDArchive(filepath.Join(cfg.DataDir, infra.IDArchiveDir))
	if err != nil {
		return err
	}
	n.cleanups = append(n.cleanups, func() { _ = archive.Close() })
	n.snapObs = &snapshotObserver{Metrics: n.newMetrics(), last: time.Now()}
	// The API's submitter is made first: the processor answers it in
	// memory, other API instances over NATS (ADR 0015).
	if n.submitter, err = infra.NewSubmitter(n.NC, n.JS, n.Names, cfg.GroupCommit); err != nil {
		return err
	}
	n.cleanups = append(n.cleanups, func() { _ = n.submitter.Close() })
	n.proc = commands.New(n.journal, source, infra.NewLocalNotifier(n.NC, n.submitter), commands.Config{Logger: cfg.Logger,
		Snapshots: snapshots, SkipLostThrough: cfg.SkipLostCommands, Observer: n.snapObs, Tracer: cfg.Tracer,
		Archive: archive, HotIDs: cfg.HotIDs})
	n.projector = projections.NewProjector(n.Store, n.NC, n.Names, cfg.Logger)
	n.projector.TraceWith(cfg.Tracer)
	return nil
}

// newHandler builds the submitter, the webhook deliverer and the HTTP
// handler over them.
func (n *Node) newHandler(ctx context.Context, cfg Config, authn api.Authenticator, start startPosition) error {
	submitter := n.submitter
	cfg.Webhooks.Observer = n.metrics
	hooks, err := webhook.Start(ctx, n.NC, n.Names.Ledger, cfg.Webhooks)
	if err != nil {
		return err
	}
	n.cleanups = append(n.cleanups, hooks.Close)
	n.streamsDone = make(chan struct{})
	cfg.EventStream.Done = n.streamsDone
	// The journal's end and what is stored and undecided count from the
	// start, whatever the processor is doing (ADR 0009).
	n.journalSeq = func() uint64 { return max(start.journalSeq, n.proc.Seq()) }
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

// run starts the processor and the projector, which run until Close
// cancels them, whatever becomes of ctx.
func (n *Node) run(ctx context.Context, checkpointEvery time.Duration) {
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	n.stopWork = stopWork
	n.procDone, n.projDone = make(chan error, 1), make(chan error, 1)
	procCtx, stopProc := context.WithCancel(workCtx)
	n.stopProc = stopProc
	n.cpDone = make(chan struct{})
	go func() {
		defer close(n.cpDone)
		if checkpointEvery > 0 {
			n.checkpoints.run(workCtx, checkpointEvery)
		}
	}()
	go func() {
		err := n.proc.Run(procCtx)
		n.procStopped.Store(true)
		n.procDone <- err
		if workCtx.Err() == nil {
			n.failed <- fmt.Errorf("processor stopped: %w", err)
		}
	}()
	go func() {
		err := n.projector.Run(workCtx)
		n.projStopped.Store(true)
		n.projDone <- err
		if workCtx.Err() == nil {
			n.failed <- fmt.Errorf("projections stopped: %w", err)
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
