package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/projections"
)

// HTTP server limits: slow or oversized clients cannot hold resources.
const (
	httpReadHeaderTimeout = 5 * time.Second
	httpReadTimeout       = 15 * time.Second
	httpWriteTimeout      = 30 * time.Second // longer than the sync timeout
	httpIdleTimeout       = 2 * time.Minute
	httpMaxHeaderBytes    = 16 << 10
	shutdownTimeout       = 30 * time.Second
)

var ledgerNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

type serveConfig struct {
	dataDir     string
	httpAddr    string
	natsListen  string
	ledger      string
	syncAlways  bool
	syncTimeout time.Duration
}

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.dataDir, "data-dir", envOr("LEDGER_DATA_DIR", "./data"), "data directory: JetStream store and read models (env LEDGER_DATA_DIR)")
	fs.StringVar(&c.httpAddr, "http-addr", envOr("LEDGER_HTTP_ADDR", "127.0.0.1:8080"), "HTTP listen address (env LEDGER_HTTP_ADDR)")
	fs.StringVar(&c.natsListen, "nats-listen", envOr("LEDGER_NATS_LISTEN", ""), "let NATS clients (the nats CLI) connect at this address, e.g. 127.0.0.1:4222; empty: no listener (env LEDGER_NATS_LISTEN)")
	fs.StringVar(&c.ledger, "ledger", envOr("LEDGER_NAME", "default"), "ledger name: prefixes streams and subjects (env LEDGER_NAME)")
	fs.BoolVar(&c.syncAlways, "sync-always", envOr("LEDGER_SYNC_ALWAYS", "") == "true", "fsync every journal write before acknowledging it (env LEDGER_SYNC_ALWAYS=true)")
	fs.DurationVar(&c.syncTimeout, "sync-timeout", api.DefaultSyncTimeout, "how long a synchronous request waits for its outcome before answering 202")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if !ledgerNameRE.MatchString(c.ledger) {
		return c, fmt.Errorf("ledger name %q: use 1-32 of a-z 0-9 _ -", c.ledger)
	}
	return c, nil
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	release, err := infra.LockDataDir(cfg.dataDir)
	if err != nil {
		return err
	}
	defer release()

	_, nc, stopNATS, err := infra.StartServer(infra.ServerConfig{DataDir: cfg.dataDir, ListenAddr: cfg.natsListen, SyncAlways: cfg.syncAlways})
	if err != nil {
		return err
	}
	defer stopNATS()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	names := infra.NamesFor(cfg.ledger)
	if err := infra.EnsureStreams(ctx, js, names); err != nil {
		return err
	}

	store, err := projections.Open(filepath.Join(cfg.dataDir, "readmodel.db"))
	if err != nil {
		return fmt.Errorf("read model: %w", err)
	}
	defer store.Close()

	source := infra.NewCommandSource(js, names)
	defer source.Close()
	proc := commands.New(infra.NewJournal(js, names), source, infra.NewNotifier(nc), commands.Config{Logger: log})
	projector := projections.NewProjector(store, nc, names, log)
	submitter, err := infra.NewSubmitter(nc, js, names)
	if err != nil {
		return err
	}
	defer submitter.Close()

	ready := func(ctx context.Context) error {
		if !nc.IsConnected() {
			return errors.New("nats is not connected")
		}
		if !proc.Ready() {
			return errors.New("the processor is rebuilding its state")
		}
		stream, err := js.Stream(ctx, names.JournalStream)
		if err != nil {
			return fmt.Errorf("journal stream: %w", err)
		}
		if last, at := stream.CachedInfo().State.LastSeq, projector.Position(); at < last {
			return fmt.Errorf("read models at journal position %d of %d", at, last)
		}
		return nil
	}
	handler := api.New(api.Config{
		SyncTimeout: cfg.syncTimeout,
		IsNoAnswer:  func(err error) bool { return errors.Is(err, infra.ErrNoAnswer) },
		IsFull:      func(err error) bool { return errors.Is(err, infra.ErrCommandsFull) },
		Ready:       ready,
		Logger:      log,
	}, submitter, store)

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	procDone := make(chan error, 1)
	go func() { procDone <- proc.Run(workCtx) }()
	projDone := make(chan error, 1)
	go func() { projDone <- projector.Run(workCtx) }()

	ln, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	httpSrv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    httpMaxHeaderBytes,
	}
	httpDone := make(chan error, 1)
	go func() { httpDone <- httpSrv.Serve(ln) }()
	log.Info("ledger serving", "http", ln.Addr().String(), "data_dir", cfg.dataDir, "ledger", cfg.ledger, "nats_listen", cfg.natsListen, "sync_always", cfg.syncAlways)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-procDone:
		procDone <- err // for the wait below
		runErr = fmt.Errorf("processor stopped: %w", err)
	case err := <-projDone:
		projDone <- err
		runErr = fmt.Errorf("projections stopped: %w", err)
	case err := <-httpDone:
		runErr = fmt.Errorf("http server stopped: %w", err)
	}
	// Stop accepting, let in-flight requests get their outcomes, then stop
	// the processor after its batch in flight, then the projections.
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopWork()
	for _, ch := range []chan error{procDone, projDone} {
		select {
		case err := <-ch:
			if err != nil && runErr == nil {
				runErr = err
			}
		case <-shutCtx.Done():
		}
	}
	log.Info("stopped")
	return runErr
}
