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
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/auth"
	"github.com/nats-ledger/ledger/infra/journalio"
	"github.com/nats-ledger/ledger/infra/webhook"
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
	Logger           *slog.Logger

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
}

// ReadModelFile is the read models' file name inside the data directory.
const ReadModelFile = "readmodel.db"

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

	proc      *commands.Processor
	restore   *restoreMark    // what was stored before the start, and when it is decided
	journal   *trackedJournal // the processor's, for GET /v1/status
	projector *projections.Projector
	stopWork  context.CancelFunc
	procDone  chan error
	projDone  chan error
	failed    chan error
	cleanups  []func()

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
	n := &Node{Names: journalio.NamesFor(cfg.Ledger), failed: make(chan error, 2)}
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
	serverCfg := infra.ServerConfig{DataDir: cfg.DataDir, ListenAddr: cfg.NATSListen, SyncAlways: cfg.SyncAlways}
	if cfg.NATSListen != "" {
		pw, _, err := auth.LoadOrCreateSecret(auth.NATSPasswordFile(cfg.DataDir))
		if err != nil {
			return nil, err
		}
		serverCfg.User, serverCfg.Password = auth.NATSUser, pw
		readerPW, _, err := auth.LoadOrCreateSecret(auth.NATSReaderPasswordFile(cfg.DataDir))
		if err != nil {
			return nil, err
		}
		serverCfg.ReaderUser, serverCfg.ReaderPassword, serverCfg.Ledger = auth.NATSReaderUser, readerPW, cfg.Ledger
	}
	_, nc, stopNATS, err := infra.StartServer(serverCfg)
	if err != nil {
		return nil, err
	}
	n.cleanups = append(n.cleanups, stopNATS)
	n.NC = nc
	if n.JS, err = jetstream.New(nc); err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := infra.EnsureStreams(ctx, n.JS, n.Names); err != nil {
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
	if n.Store, err = openReadModel(filepath.Join(cfg.DataDir, ReadModelFile), cfg.Logger); err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	n.cleanups = append(n.cleanups, func() { _ = n.Store.Close() })

	source := infra.NewCommandSource(n.JS, n.Names)
	n.cleanups = append(n.cleanups, source.Close)
	snapshots, err := infra.EnsureSnapshotStore(ctx, n.JS, n.Names, 1)
	if err != nil {
		return nil, err
	}
	n.journal = &trackedJournal{Journal: infra.NewJournal(n.JS, n.Names)}
	n.proc = commands.New(n.journal, source, infra.NewNotifier(nc), commands.Config{Logger: cfg.Logger, Snapshots: snapshots,
		SkipLostThrough: cfg.SkipLostCommands})
	n.projector = projections.NewProjector(n.Store, nc, n.Names, cfg.Logger)
	submitter, err := infra.NewSubmitter(nc, n.JS, n.Names, cfg.GroupCommit)
	if err != nil {
		return nil, err
	}
	n.cleanups = append(n.cleanups, func() { _ = submitter.Close() })
	if cfg.Webhooks.Logger == nil {
		cfg.Webhooks.Logger = cfg.Logger
	}
	hooks, err := webhook.Start(ctx, nc, n.Names.Ledger, cfg.Webhooks)
	if err != nil {
		return nil, err
	}
	n.cleanups = append(n.cleanups, hooks.Close)
	n.streamsDone = make(chan struct{})
	cfg.EventStream.Done = n.streamsDone
	n.Handler, n.Core = api.NewWithCore(api.Config{
		SyncTimeout: cfg.SyncTimeout,
		ReadWait:    cfg.ReadWait,
		MaxReadLag:  cfg.MaxReadLag,
		// The journal's end and what is stored and undecided count from
		// the start, whatever the processor is doing (ADR 0009).
		JournalSeq:  func() uint64 { return max(start.journalSeq, n.proc.Seq()) },
		Undecided:   n.undecided(submitter),
		StartSeq:    start.journalSeq,
		Restored:    n.restored,
		Ready:       n.Ready,
		Auth:        authn,
		RateLimit:   cfg.RateLimit,
		Logger:      cfg.Logger,
		Events:      subscriber.NewFeed(nc, n.Names.Ledger, cfg.Logger),
		EventStream: cfg.EventStream,
		Webhooks:    hooks,
		Status:      n.status,
	}, submitter, n.Store)

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	n.stopWork = stopWork
	n.procDone, n.projDone = make(chan error, 1), make(chan error, 1)
	started = true
	go func() {
		err := n.proc.Run(workCtx)
		n.procDone <- err
		if workCtx.Err() == nil {
			n.failed <- fmt.Errorf("processor stopped: %w", err)
		}
	}()
	go func() {
		err := n.projector.Run(workCtx)
		n.projDone <- err
		if workCtx.Err() == nil {
			n.failed <- fmt.Errorf("projections stopped: %w", err)
		}
	}()
	return n, nil
}

// authenticator builds the token checks: the static admin token if set,
// then JWTs signed with the HS256 key (created if missing), an RS256 key
// or a JWKS endpoint.
func (n *Node) authenticator(ctx context.Context, cfg Config) (api.Authenticator, error) {
	n.KeyFile = cfg.KeyFile
	if n.KeyFile == "" {
		n.KeyFile = auth.DefaultKeyFile(cfg.DataDir)
	}
	key, created, err := auth.LoadOrCreateKey(n.KeyFile)
	if err != nil {
		return nil, err
	}
	n.KeyCreated = created
	// The JWKS refresher runs until the node closes.
	jwksCtx, stopJWKS := context.WithCancel(context.WithoutCancel(ctx))
	n.cleanups = append(n.cleanups, stopJWKS)
	jwtv, err := auth.NewJWTVerifier(auth.JWTConfig{
		HS256Key: key, RS256PublicPEM: cfg.RSAPublicKeyPEM, JWKSURL: cfg.JWKSURL,
		JWKSFetchContext: jwksCtx,
	})
	if err != nil {
		return nil, err
	}
	var as api.Authenticators
	if cfg.AdminToken != "" {
		as = append(as, api.StaticToken{Token: cfg.AdminToken, Subject: "admin-token"})
	}
	return append(as, jwtv), nil
}

// restored reports whether every command stored before the start is
// decided, and the journal sequence covering their decisions.
func (n *Node) restored() (uint64, bool) {
	return n.restore.restored(n.proc.Decided(), n.proc.Seq)
}

// undecided counts the items stored and not yet decided: those this
// node's submitter stored without waiting after the processor's last
// decided message, and, until they are all decided, those stored before
// the start.
func (n *Node) undecided(s *infra.Submitter) func() uint64 {
	return func() uint64 {
		u := s.Undecided(n.proc.Decided())
		if _, ok := n.restored(); !ok {
			u += n.restore.start.undecidedItems
		}
		return u
	}
}

// Failed delivers an error if the processor or the projector stops while
// the node is meant to be running.
func (n *Node) Failed() <-chan error { return n.failed }

// Ready returns nil when NATS is connected, the processor is consuming and
// the read models have applied the whole journal.
func (n *Node) Ready(ctx context.Context) error {
	if !n.NC.IsConnected() {
		return errors.New("nats is not connected")
	}
	if !n.proc.Ready() {
		return errors.New("the processor is rebuilding its state")
	}
	if _, ok := n.restored(); !ok {
		return fmt.Errorf("the processor is deciding the %d command messages stored before the start", n.restore.start.undecidedMsgs)
	}
	stream, err := n.JS.Stream(ctx, n.Names.JournalStream)
	if err != nil {
		return fmt.Errorf("journal stream: %w", err)
	}
	if last, at := stream.CachedInfo().State.LastSeq, n.projector.Position(); at < last {
		return fmt.Errorf("read models at journal position %d of %d", at, last)
	}
	return nil
}

// status reports the journal's end as the processor knows it and the read
// model's committed checkpoint, for GET /v1/status. It is polled under
// load, so it reads only memory: the processor's sequence, the journal
// position and the read model's committed checkpoint. The checkpoint is
// read first, so that the journal's figures are taken after it and are
// normally at least as high.
func (n *Node) status(context.Context) (api.StatusView, error) {
	cp := n.Store.Applied()
	return api.StatusView{
		Journal:   api.JournalStatus{Sequence: n.proc.Seq(), Position: n.journal.Position()},
		ReadModel: api.ReadModelStatus{Sequence: cp.Seq, Position: cp.Position},
		Processor: api.ProcessorStatus{Ready: n.proc.Ready()},
	}, nil
}

// trackedJournal is the processor's journal, remembering the last journal
// position appended or replayed to, so that GET /v1/status reports the
// journal's end without a JetStream request. The processor is the
// journal's single writer, so this is the stream's last position once the
// processor has rebuilt its state.
type trackedJournal struct {
	commands.Journal
	last atomic.Uint64
}

var _ commands.Journal = (*trackedJournal)(nil)

// Position returns the last journal position appended or replayed to.
func (j *trackedJournal) Position() uint64 { return j.last.Load() }

// Append is the journal's Append, noting the position it returns.
func (j *trackedJournal) Append(ctx context.Context, records []domain.Record, after uint64) (uint64, error) {
	pos, err := j.Journal.Append(ctx, records, after)
	if err == nil {
		j.note(pos)
	}
	return pos, err
}

// Replay is the journal's Replay, noting the last position read.
func (j *trackedJournal) Replay(ctx context.Context, fn func(domain.Record) error) (uint64, error) {
	pos, err := j.Journal.Replay(ctx, fn)
	if err == nil {
		j.note(pos)
	}
	return pos, err
}

// ReplayFrom is the journal's ReplayFrom, noting the last position read.
func (j *trackedJournal) ReplayFrom(ctx context.Context, from uint64, fn func(domain.Record) error) (uint64, error) {
	pos, err := j.Journal.ReplayFrom(ctx, from, fn)
	if err == nil {
		j.note(pos)
	}
	return pos, err
}

// note raises the remembered position to pos: the journal only grows.
func (j *trackedJournal) note(pos uint64) {
	for {
		cur := j.last.Load()
		if pos <= cur || j.last.CompareAndSwap(cur, pos) {
			return
		}
	}
}

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
	n.runCleanups()
	return err
}

func (n *Node) runCleanups() {
	for i := len(n.cleanups) - 1; i >= 0; i-- {
		n.cleanups[i]()
	}
	n.cleanups = nil
}

// openReadModel opens the read model at path. A file of another schema
// version (written by another release) is moved aside, with its WAL, to
// path + ".schema-old", replacing an older one there, and a new read
// model is built from the journal: it is derived data, and rebuilding is
// the only migration.
func openReadModel(path string, log *slog.Logger) (*projections.Store, error) {
	s, err := projections.Open(path)
	if !errors.Is(err, projections.ErrSchemaVersion) {
		return s, err
	}
	aside := path + ".schema-old"
	log.Warn("read model is of another schema version: moving it aside and rebuilding it from the journal", "err", err, "moved_to", aside)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("move the old read model aside: %w", err)
		}
	}
	return projections.Open(path)
}
