package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/auth"
	"github.com/nats-ledger/ledger/node"
	"github.com/nats-ledger/ledger/projections"
)

// errAuditFailed is returned once the report is printed: the exit status
// is 1 and the report says why.
var errAuditFailed = errors.New("audit failed")

// journalFlags name a journal: the flags audit, replay, balances and
// export share.
type journalFlags struct {
	dataDir, natsURL, natsUser, natsPassword, file, ledger string
}

func (j *journalFlags) register(fs *flag.FlagSet, withFile bool) {
	fs.StringVar(&j.dataDir, "data-dir", envOr("LEDGER_DATA_DIR", ""), "a stopped ledger's data directory (locked while read); with --nats-url, only where its files are (env LEDGER_DATA_DIR; default ./data unless --nats-url or --file)")
	fs.StringVar(&j.natsURL, "nats-url", envOr("LEDGER_NATS_URL", ""), "a running ledger's NATS listener (serve --nats-listen), e.g. nats://127.0.0.1:4222 (env LEDGER_NATS_URL)")
	fs.StringVar(&j.natsUser, "nats-user", auth.NATSUser, "NATS user")
	fs.StringVar(&j.natsPassword, "nats-password", envOr("LEDGER_NATS_PASSWORD", ""), "NATS password (env LEDGER_NATS_PASSWORD; default: --data-dir's auth/nats.password)")
	fs.StringVar(&j.ledger, "ledger", envOr("LEDGER_NAME", "default"), "ledger name (env LEDGER_NAME)")
	if withFile {
		fs.StringVar(&j.file, "file", "", "an export (JSON Lines from ledger export; - for standard input): no NATS needed")
	}
}

// target resolves the flags into where the journal is.
func (j *journalFlags) target() (audit.Target, error) {
	if !ledgerNameRE.MatchString(j.ledger) {
		return audit.Target{}, fmt.Errorf("ledger name %q: use 1-32 of a-z 0-9 _ -", j.ledger)
	}
	t := audit.Target{DataDir: j.dataDir, NATSURL: j.natsURL, NATSUser: j.natsUser, NATSPassword: j.natsPassword,
		File: j.file, Ledger: j.ledger}
	if t.File == "" && t.NATSURL == "" && t.DataDir == "" {
		t.DataDir = "./data"
	}
	if t.NATSURL != "" && t.NATSPassword == "" && t.DataDir != "" {
		pw, err := os.ReadFile(auth.NATSPasswordFile(t.DataDir))
		if err != nil {
			return t, fmt.Errorf("NATS password: %w (or pass --nats-password)", err)
		}
		t.NATSPassword = strings.TrimSpace(string(pw))
	}
	return t, nil
}

// liveReadModel is the read model a server on dataDir reads.
func liveReadModel(dataDir string) string { return filepath.Join(dataDir, node.ReadModelDir) }

type auditFlags struct {
	journal     journalFlags
	readModel   string
	expectHead  string
	checkpoints checkpointFlags
	publicKey   string
	jsonOut     bool
	maxFindings int
	progress    bool
}

func parseAudit(args []string, stderr io.Writer) (auditFlags, error) {
	var f auditFlags
	fs := journalFlagSet("audit", stderr, &f.journal, true)
	fs.StringVar(&f.readModel, "read-model", "", "read model directory to compare with the journal (default: --data-dir's readmodel if it exists; none: skip)")
	fs.StringVar(&f.expectHead, "expect-head", "", "SEQ:HASH the journal must end at, as an earlier audit printed it: detects truncation, appended forgeries and rewrites")
	fs.Var(&f.checkpoints, "checkpoint", "SEQ:HASH[:SIGNATURE] the journal must pass through, as the ledger published it (GET /v1/checkpoints); repeatable: detects a rewritten or truncated tail")
	fs.StringVar(&f.publicKey, "public-key", "", "the ledger's checkpoint public key (64 hex digits, or a file holding them, e.g. DATA_DIR/checkpoint.pub): every --checkpoint must carry a signature that verifies with it")
	fs.BoolVar(&f.jsonOut, "json", false, "print the report as one JSON object")
	fs.IntVar(&f.maxFindings, "max-findings", audit.DefaultMaxFindings, "findings to list (all are counted)")
	fs.BoolVar(&f.progress, "progress", isTerminal(stderr), "show a progress bar on stderr (default: when stderr is a terminal)")
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	return f, nil
}

// auditCmd runs `ledger audit`: the report on stdout, exit status 1 unless
// every check holds.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseAudit(args, stderr)
	if err != nil {
		return err
	}
	target, err := f.journal.target()
	if err != nil {
		return err
	}
	opts := audit.Options{AllowPartial: target.File != "", MaxFindings: f.maxFindings}
	if f.expectHead != "" {
		h, err := audit.ParseHead(f.expectHead)
		if err != nil {
			return err
		}
		opts.ExpectHead = &h
	}
	opts.Checkpoints = f.checkpoints
	if f.publicKey != "" {
		if opts.PublicKey, err = readPublicKey(f.publicKey); err != nil {
			return err
		}
	}
	// The read model's snapshot is taken before the journal is read, so
	// its checkpoint is never past the journal's end as read.
	rmPath := f.readModel
	if rmPath == "" && target.DataDir != "" {
		if _, err := os.Stat(liveReadModel(target.DataDir)); err == nil {
			rmPath = liveReadModel(target.DataDir)
		}
	}
	if rmPath != "" && rmPath != "none" {
		snap, err := projections.OpenSnapshot(ctx, rmPath)
		if err != nil {
			// Pebble lets one process open a store: a running ledger's
			// read model is not readable from here.
			return fmt.Errorf("%w (if a ledger is running on it: audit the stopped ledger, or pass --read-model none)", err)
		}
		defer snap.Close()
		opts.ReadModel, opts.ReadModelPath = snap, rmPath
	}
	j, err := audit.Open(ctx, target)
	if err != nil {
		return err
	}
	defer j.Close()
	opts.SizeHint = journalLength(ctx, j)
	if f.progress {
		var finish func()
		opts.Progress, finish = progress(stderr, "auditing", opts.SizeHint)
		defer finish()
	}
	res, err := audit.Run(ctx, j.Source, opts)
	if err != nil {
		return err
	}
	if f.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res.Report)
	} else {
		err = res.Report.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if !res.Report.OK {
		return fmt.Errorf("%w: %d failures", errAuditFailed, res.Report.Failures())
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// checkpointFlags collects repeated --checkpoint flags.
type checkpointFlags []domain.Checkpoint

func (c *checkpointFlags) String() string { return fmt.Sprint(len(*c), " checkpoints") }

func (c *checkpointFlags) Set(s string) error {
	cp, err := domain.ParseCheckpoint(s)
	if err != nil {
		return err
	}
	*c = append(*c, cp)
	return nil
}

// readPublicKey reads an Ed25519 public key given in hex, or the file
// that holds it.
func readPublicKey(s string) (ed25519.PublicKey, error) {
	if k, err := domain.ParsePublicKey(s); err == nil {
		return k, nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return nil, fmt.Errorf("--public-key: neither 64 hex digits nor a readable file: %w", err)
	}
	k, err := domain.ParsePublicKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("--public-key %s: %w", s, err)
	}
	return k, nil
}
