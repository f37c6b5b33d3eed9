package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/bench"
	"github.com/nats-ledger/ledger/infra/auth"
)

// benchTokenTTL is the lifetime of a token bench mints from --data-dir's
// key for a ledger at --url: longer than any bounded run.
const benchTokenTTL = 2 * time.Hour

type benchFlags struct {
	cfg        bench.Config
	jsonOut    bool
	cpuProfile string // a file for the whole run's CPU profile; empty: none
}

func parseBench(args []string, stderr io.Writer) (benchFlags, error) {
	var f benchFlags
	c := &f.cfg
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "", "a running ledger's base URL, e.g. http://127.0.0.1:8080; empty: start one in this process")
	fs.StringVar(&c.Token, "token", "", "admin bearer token for --url (default $LEDGER_ADMIN_TOKEN, else minted from --data-dir's key)")
	fs.StringVar(&c.DataDir, "data-dir", "", "self-started ledger: its data directory (default a temporary one, removed at the end); with --url: the running ledger's, to mint an admin token")
	fs.BoolVar(&c.SyncAlways, "sync-always", false, "self-started ledger: fsync every journal write")
	fs.IntVar(&c.Concurrency, "concurrency", bench.DefaultConcurrency, fmt.Sprintf("concurrent workers, each with one request in flight (at most %d)", bench.ConcurrencyMax))
	fs.DurationVar(&c.Duration, "duration", bench.DefaultDuration, fmt.Sprintf("measured time (at most %s)", bench.DurationMax))
	fs.DurationVar(&c.Warmup, "warmup", bench.DefaultWarmup, fmt.Sprintf("load before measuring, not measured (at most %s)", bench.WarmupMax))
	fs.IntVar(&c.Batch, "batch", bench.DefaultBatch, fmt.Sprintf("transfers per request: 1 uses POST /v1/transfers, more POST /v1/transfers/batch (at most %d)", bench.BatchMax))
	fs.IntVar(&c.Accounts, "accounts", bench.DefaultAccounts, fmt.Sprintf("bench accounts (2 to %d)", bench.AccountsMax))
	fs.BoolVar(&c.Async, "async", false, "send Prefer: respond-async and count 202s")
	fs.Float64Var(&c.Rate, "rate", 0, fmt.Sprintf("requests a second on a fixed schedule across all workers, latency counted from each request's scheduled start (open loop; at most %d); 0: each worker sends as soon as it is answered", bench.RateMax))
	fs.BoolVar(&c.Baseline, "baseline", false, "first measure a trivial Echo handler, the API with nothing behind it (JWT, decoding, validation: the ceiling) and raw JetStream publishing with the same load")
	fs.DurationVar(&c.ReadyWait, "ready-wait", bench.DefaultReadyWait, fmt.Sprintf("how long to wait for the ledger to be ready, before the run and before the final check (at most %s)", bench.ReadyWaitMax))
	fs.BoolVar(&f.jsonOut, "json", false, "print the report as one JSON object on stdout")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (load generator and self-started ledger) to this file; samples are labelled phase=echo, api ceiling, jetstream, ledger (go tool pprof -tagfocus)")
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	if c.URL == "" {
		return f, nil
	}
	if c.Token == "" {
		c.Token = os.Getenv("LEDGER_ADMIN_TOKEN")
	}
	if c.Token == "" && c.DataDir != "" {
		key, err := auth.LoadKey(auth.DefaultKeyFile(c.DataDir))
		if err != nil {
			return f, err
		}
		if c.Token, err = auth.MintToken(key, "bench", []string{api.ScopeAdmin}, benchTokenTTL, time.Now()); err != nil {
			return f, err
		}
	}
	if c.Token == "" {
		return f, errors.New("bench: --url needs an admin token: --token, LEDGER_ADMIN_TOKEN or --data-dir")
	}
	return f, nil
}

// benchCmd runs `ledger bench`: progress on stderr, the report on stdout.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseBench(args, stderr)
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(f.cpuProfile)
	if err != nil {
		return err
	}
	rep, err := bench.Run(ctx, f.cfg, stderr)
	if perr := stopProfile(); perr != nil && err == nil {
		err = perr
	}
	if rep != nil && rep.Ran { // what the run saw, even if the ledger could not be checked
		if f.jsonOut {
			if err := json.NewEncoder(stdout).Encode(rep); err != nil {
				return err
			}
		} else {
			rep.WriteText(stdout)
		}
	}
	if err != nil {
		return err
	}
	if !rep.InvariantsOK {
		return fmt.Errorf("bench: invariants failed: %s", strings.Join(rep.InvariantFailures, "; "))
	}
	return nil
}

// startCPUProfile starts profiling the whole process into path and
// returns the function that stops and closes it; with an empty path it
// does nothing.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
