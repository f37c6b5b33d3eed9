package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/webhook"
	"github.com/nats-ledger/ledger/node"
)

// shutdownTimeout bounds how long in-flight requests may take to finish.
const shutdownTimeout = 30 * time.Second

var ledgerNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

type serveConfig struct {
	node      node.Config
	httpAddr  string
	debugAddr string
	// metricsAddr also serves /metrics on a listener of its own.
	metricsAddr string
	// compat lists the seed adapters to serve (--compat SYSTEM=ADDR);
	// compatAllowRemote lets the unauthenticated ones listen beyond
	// loopback.
	compat            compatFlag
	compatAllowRemote bool
	logLevel          string
	logFormat         string
	log               *slog.Logger
	// otlpEndpoint turns tracing on (traces.go); empty: off.
	otlpEndpoint string
}

// defaultHotIDs is --hot-ids' default: the processor's own (ADR 0027).
// minHotIDs keeps the hot set above the ids of one command message, so
// that evictions stay rare next to batches.
const (
	defaultHotIDs = 1_000_000
	minHotIDs     = 1_000
)

// maxGroupCommitWait bounds the group-commit linger: past it a single
// request would wait longer for company than for its own decision.
const maxGroupCommitWait = 100 * time.Millisecond

// maxReadWait bounds how long a read may be held for the read model: a
// read model further behind than that is a fault to surface, not to hide.
const maxReadWait = time.Minute

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	var err error
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.node.DataDir, "data-dir", "./data", "data directory: JetStream store and read models (env LEDGER_DATA_DIR)")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "serve Go's pprof profiles here, e.g. 127.0.0.1:6060; empty: off (env LEDGER_DEBUG_ADDR)")
	fs.StringVar(&c.httpAddr, "http-addr", "127.0.0.1:8080", "HTTP listen address (env LEDGER_HTTP_ADDR)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "also serve Prometheus metrics at /metrics on this address, e.g. 127.0.0.1:9090; they are always on the HTTP listener too; empty: no second listener (env LEDGER_METRICS_ADDR)")
	fs.StringVar(&c.node.NATSListen, "nats-listen", "", "let NATS clients (the nats CLI) connect at this address, e.g. 127.0.0.1:4222; empty: no listener (env LEDGER_NATS_LISTEN)")
	fs.StringVar(&c.node.Ledger, "ledger", "default", "ledger name: prefixes streams and subjects (env LEDGER_NAME)")
	fs.BoolVar(&c.node.SyncAlways, "sync-always", false, "fsync every journal write before acknowledging it (env LEDGER_SYNC_ALWAYS=true)")
	fs.DurationVar(&c.node.SyncTimeout, "sync-timeout", api.DefaultSyncTimeout, "how long a synchronous request waits for its outcome before answering 202")
	fs.StringVar(&c.node.KeyFile, "jwt-key-file", "", "HS256 token signing key (hex); default <data-dir>/auth/hs256.key, generated if missing (env LEDGER_JWT_KEY_FILE)")
	rsaFile := fs.String("jwt-rsa-public-key", "", "also accept RS256 tokens signed for this PEM public key (env LEDGER_JWT_RSA_PUBLIC_KEY)")
	fs.StringVar(&c.node.JWKSURL, "jwks-url", "", "also accept RS256 tokens whose key is in this JWKS (env LEDGER_JWKS_URL)")
	fs.Float64Var(&c.node.RateLimit, "rate-limit", 1000, "requests per second allowed to each non-admin token (bursts of twice that); 0 disables")
	fs.IntVar(&c.node.GroupCommit.MaxItems, "group-commit-max-items", 1000, "group commit: single-transfer requests coalesced into one command message, at most (ADR 0007)")
	fs.DurationVar(&c.node.GroupCommit.MaxWait, "group-commit-max-wait", 0, "group commit: extra wait for more requests once one is queued; 0 sends at once (ADR 0007)")
	fs.DurationVar(&c.node.ReadWait, "read-wait", 2*time.Second, "how long a read waits for the read model to apply the writes this server acknowledged before answering 503 (ADR 0008)")
	fs.IntVar(&c.node.MaxReadLag, "max-read-lag", api.DefaultMaxReadLag, "events the journal may run ahead of the read model, counting writes in flight, before writes wait (ADR 0008)")
	fs.Var(&c.compat, "compat", "serve a seed system's API for its existing clients, SYSTEM=ADDR, repeatable (systems: "+strings.Join(compatNames(), ", ")+"; env LEDGER_COMPAT, comma-separated; docs/compat/)")
	fs.BoolVar(&c.compatAllowRemote, "compat-allow-remote", false, "let adapters of systems without authentication listen beyond loopback (env LEDGER_COMPAT_ALLOW_REMOTE=true)")
	fs.Var((*networksFlag)(&c.node.Webhooks.AllowNetworks), "webhook-allow-networks", "let webhooks reach receivers in these networks although the SSRF guard refuses private addresses: CIDRs, repeatable (env LEDGER_WEBHOOK_ALLOW_NETWORKS, comma-separated); loopback only when a loopback CIDR such as 127.0.0.0/8 is named; default none (docs/security.md)")
	fs.StringVar(&c.node.ProcessorID, "processor-id", "", "this node's processor's name in the processor lease, unique among the ledger's processors (env LEDGER_PROCESSOR_ID); default <host name>:<data dir> (ADR 0026)")
	fs.Uint64Var(&c.node.SkipLostCommands, "skip-lost-commands", 0, "accepted commands up to this sequence that were deleted from the commands stream before being decided are journaled as lost instead of stopping the ledger; for the one start after such a loss (docs/operations.md, \"Commands stream\")")
	fs.StringVar(&c.node.CheckpointKeyFile, "checkpoint-key", "", "Ed25519 key that signs checkpoints of the journal's head (hex seed); default <data-dir>/checkpoint.key, generated if missing with its public key in <file>.pub (ADR 0017)")
	fs.DurationVar(&c.node.CheckpointInterval, "checkpoint-interval", time.Minute, "sign a checkpoint of the journal's head this often when it has grown; 0: only on demand (POST /v1/checkpoints)")
	fs.StringVar(&c.node.CheckpointFile, "checkpoint-file", "", "also append every checkpoint to this file as a JSON line, for a witness to receive (ship it elsewhere); empty: none")
	fs.IntVar(&c.node.HotIDs, "hot-ids", defaultHotIDs, "the most posted transfer ids the processor keeps in memory (about 60 bytes each); older ones are looked up in <data-dir>/postedids (docs/operations.md, \"Memory\")")
	fs.StringVar(&c.otlpEndpoint, "otlp-endpoint", "", "export traces over OTLP/HTTP to this collector, e.g. http://127.0.0.1:4318 (the ledger appends /v1/traces); empty: tracing off (docs/operations.md, \"Traces\")")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "", "log format: json or text; default json, or text when stderr is a terminal")
	addClusterFlags(fs, &c.node) // cluster_flags.go
	noteEnv(fs)
	noteEnvOnly(fs)
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	if err := applyEnv(fs); err != nil {
		return c, err
	}
	if c.log, err = newLogger(stderr, c.logLevel, c.logFormat); err != nil {
		return c, err
	}
	c.node.AdminToken = os.Getenv(envOnlyAdminToken)
	if *rsaFile != "" {
		pem, err := os.ReadFile(*rsaFile)
		if err != nil {
			return c, fmt.Errorf("RS256 public key: %w", err)
		}
		c.node.RSAPublicKeyPEM = pem
	}
	if c.otlpEndpoint != "" {
		if _, err := otlpTracesURL(c.otlpEndpoint); err != nil {
			return c, err
		}
	}
	if !ledgerNameRE.MatchString(c.node.Ledger) {
		return c, usagef("ledger name %q: use 1-32 of a-z 0-9 _ -", c.node.Ledger)
	}
	if err := checkCluster(c); err != nil {
		return c, err
	}
	return c, checkTuning(c)
}

// checkTuning refuses tuning flags out of their ranges.
func checkTuning(c serveConfig) error {
	g := c.node.GroupCommit
	switch {
	case g.MaxItems < 1 || g.MaxItems > commands.MaxItemsPerCommand:
		return usagef("--group-commit-max-items %d: use 1 to %d", g.MaxItems, commands.MaxItemsPerCommand)
	case g.MaxWait < 0 || g.MaxWait > maxGroupCommitWait:
		return usagef("--group-commit-max-wait %s: use 0 to %s", g.MaxWait, maxGroupCommitWait)
	case c.node.CheckpointInterval != 0 && (c.node.CheckpointInterval < time.Second || c.node.CheckpointInterval > 24*time.Hour):
		return usagef("--checkpoint-interval %s: use 0 (on demand only) or 1s to 24h", c.node.CheckpointInterval)
	case c.node.ReadWait <= 0 || c.node.ReadWait > maxReadWait:
		return usagef("--read-wait %s: use more than 0 and at most %s", c.node.ReadWait, maxReadWait)
	case c.node.HotIDs < minHotIDs:
		return usagef("--hot-ids %d: use at least %d", c.node.HotIDs, minHotIDs)
	case c.node.MaxReadLag < api.MaxBatchItems:
		// The largest write (a full batch) must fit under the bound.
		return usagef("--max-read-lag %d: use at least %d", c.node.MaxReadLag, api.MaxBatchItems)
	}
	return nil
}

// checkCluster refuses roles and external-NATS settings that cannot
// work together.
func checkCluster(c serveConfig) error {
	external := len(c.node.NATS.URLs) > 0
	switch {
	case !c.node.Roles.All() && !external:
		return usagef("--role %s: a node of some roles needs an external NATS (--nats-url); the embedded server runs them all", c.node.Roles)
	case external && c.node.NATSListen != "":
		return usagef("--nats-listen serves the embedded NATS server; with --nats-url, clients connect to the external one")
	case external && c.node.SyncAlways:
		return usagef("--sync-always configures the embedded NATS server; give the external servers sync_interval: always in their configuration (docs/operations.md)")
	case c.node.Replicas < 1 || c.node.Replicas > infra.MaxReplicas:
		return usagef("--replicas %d: use 1 to %d", c.node.Replicas, infra.MaxReplicas)
	case c.node.Replicas > 1 && !external:
		return usagef("--replicas %d: the embedded server is not a cluster; replicas need an external NATS cluster (--nats-url)", c.node.Replicas)
	case len(c.compat) > 0 && !c.node.Roles.Has(node.RoleAPI):
		return usagef("--compat serves adapters of the API: it needs the api role")
	}
	if external {
		if err := c.node.NATS.Check(); err != nil {
			return usagef("%v", err)
		}
	}
	return nil
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	log := cfg.log
	// Bind the listeners before starting anything heavy: a busy port is
	// then the first and only thing the operator reads, not buried under
	// what the start of the journal and the read model logged.
	ln, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	defer ln.Close() // Serve closes it too; this covers a failed start
	compatSrv, err := bindCompat(cfg.compat, cfg.compatAllowRemote)
	if err != nil {
		return err
	}
	defer compatSrv.close()
	metricsLn, err := bindMetrics(cfg.metricsAddr)
	if err != nil {
		return err
	}
	if metricsLn != nil {
		defer metricsLn.Close() // the server closes it too; this covers a failed start
	}
	stopSide, err := startSideServices(ctx, &cfg)
	if err != nil {
		return err
	}
	defer stopSide() // after the node's Close: its last spans go too
	n, err := node.Start(ctx, cfg.node)
	if err != nil {
		return err
	}
	if n.KeyCreated {
		log.Warn("authentication is on: generated a token signing key at "+n.KeyFile+
			"; mint an admin token with: ledger token create --data-dir "+cfg.node.DataDir+" --sub admin --scope admin", "key_file", n.KeyFile)
	}
	defer serveMetrics(metricsLn, n.MetricsHandler(), log)()
	httpSrv := api.NewHTTPServer(n.Handler)
	httpDone := make(chan error, 1+len(cfg.compat)) // the native listener and each adapter's
	go func() { httpDone <- httpSrv.Serve(ln) }()
	if err := compatSrv.serve(cfg.compat, n, log, httpDone); err != nil {
		httpDone <- err
	}
	log.Info("ledger serving", "http", ln.Addr().String(), "data_dir", cfg.node.DataDir, "ledger", cfg.node.Ledger,
		"roles", cfg.node.Roles.String(), "replicas", cfg.node.Replicas, "nats_url", strings.Join(cfg.node.NATS.URLs, ","),
		"nats_listen", cfg.node.NATSListen, "sync_always", cfg.node.SyncAlways, "otlp_endpoint", cfg.otlpEndpoint)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-n.Failed():
	case err := <-httpDone:
		runErr = fmt.Errorf("http server stopped: %w", err)
	}
	// Stop accepting and let in-flight requests get their outcomes, then
	// stop the processor after its batch in flight, the projector and NATS.
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	compatSrv.shutdown(shutCtx, log)
	if err := n.Close(); err != nil && runErr == nil {
		runErr = err
	}
	log.Info("stopped")
	return runErr
}

// startSideServices starts what runs beside the node: the debug listener
// and the trace exporter (which it sets in cfg.node). stop ends them.
func startSideServices(ctx context.Context, cfg *serveConfig) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	cfg.node.Logger = cfg.log
	if cfg.debugAddr != "" {
		stopDebug, err := serveDebug(cfg.debugAddr, cfg.log)
		if err != nil {
			return stop, err
		}
		stops = append(stops, stopDebug)
	}
	if cfg.otlpEndpoint != "" {
		tracer, stopTracing, err := startTracing(ctx, cfg.otlpEndpoint, cfg.node.Ledger)
		if err != nil {
			stop()
			return func() {}, err
		}
		stops = append(stops, stopTracing)
		cfg.node.Tracer = tracer
	}
	return stop, nil
}

// networksFlag is --webhook-allow-networks: CIDRs, given one a flag or
// several separated by commas (the form of LEDGER_WEBHOOK_ALLOW_NETWORKS).
type networksFlag []netip.Prefix

func (f *networksFlag) String() string {
	parts := make([]string, len(*f))
	for i, p := range *f {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (f *networksFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		p, err := webhook.ParseNetwork(part)
		if err != nil {
			return err
		}
		if !slices.Contains(*f, p) {
			*f = append(*f, p)
		}
	}
	if len(*f) > webhook.AllowNetworksMax {
		return fmt.Errorf("at most %d networks", webhook.AllowNetworksMax)
	}
	return nil
}
