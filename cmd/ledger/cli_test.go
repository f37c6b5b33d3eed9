package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds one command that should answer at once.
const cliTimeout = 60 * time.Second

// runCLI runs the ledger binary in dir with args and returns its stdout,
// stderr and exit status.
func runCLI(t *testing.T, dir string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ledgerBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LEDGER_ADMIN_TOKEN="+testAdminToken)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		status = ee.ExitCode()
	default:
		t.Fatalf("ledger %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String(), status
}

// subcommands are the command words of every subcommand.
var subcommands = [][]string{
	{"serve"}, {"token", "create"}, {"bench"}, {"audit"}, {"replay"}, {"balances"}, {"export"}, {"version"}, {"mixin", "user", "create"},
	{"testbank", "user", "create"},
}

// TestCLIHelpExitsZero: help asked for is a success, for the program and
// for every subcommand.
func TestCLIHelpExitsZero(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range append([][]string{{}, {"token"}}, subcommands...) {
		for _, h := range []string{"-h", "--help"} {
			argv := append(append([]string{}, args...), h)
			if _, stderr, status := runCLI(t, dir, argv...); status != 0 {
				t.Errorf("ledger %s: exit %d, want 0\n%s", strings.Join(argv, " "), status, stderr)
			}
		}
	}
}

// TestCLIRefusesStrayArguments: a word where only flags are taken is a
// usage error (exit 2) that names the word and what was not read after
// it, and nothing starts. Before, `serve data --sync-always` started a
// ledger on ./data without fsync, ignoring the flag.
func TestCLIRefusesStrayArguments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stderr, status := runCLI(t, dir, "serve", "data", "--sync-always")
	if status != 2 || !strings.Contains(stderr, `unexpected argument "data"`) || !strings.Contains(stderr, "--sync-always") {
		t.Errorf("serve data --sync-always: exit %d, want 2 and a message naming \"data\" and --sync-always:\n%s", status, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve data --sync-always created ./data: %v", err)
	}
	_, stderr, status = runCLI(t, dir, "token", "create", "extra", "--sub", "x")
	if status != 2 || !strings.Contains(stderr, `unexpected argument "extra"`) || !strings.Contains(stderr, "--sub x") {
		t.Errorf("token create extra --sub x: exit %d, want 2 and a message naming \"extra\" and --sub x:\n%s", status, stderr)
	}
	for _, args := range subcommands {
		argv := append(append([]string{}, args...), "stray")
		if _, stderr, status := runCLI(t, dir, argv...); status != 2 || !strings.Contains(stderr, `unexpected argument "stray"`) {
			t.Errorf("ledger %s: exit %d, want 2 naming the stray word\n%s", strings.Join(argv, " "), status, stderr)
		}
	}
}

// TestCLIUsageErrorsExitTwo: a command line the program does not
// understand exits 2, a command that ran and failed exits 1.
func TestCLIUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, argv := range [][]string{
		{},
		{"bogus"},
		{"token"},
		{"token", "revoke"},
		{"token", "create", "--sub", "x"}, // no scope
		{"serve", "--no-such-flag"},
		{"serve", "--read-wait", "0s"},
		{"serve", "--ledger", "Bad Name"},
		{"audit", "--max-findings", "many"},
		{"balances", "--format", "xml"},
		{"export", "--from", "0"},
		{"replay", "--from", "0"},
		{"bench", "--concurrency", "x"},
	} {
		if _, stderr, status := runCLI(t, dir, argv...); status != 2 {
			t.Errorf("ledger %s: exit %d, want 2\n%s", strings.Join(argv, " "), status, stderr)
		}
	}
	// A failure that is not the command line's: no signing key to use.
	if _, stderr, status := runCLI(t, dir, "token", "create", "--sub", "x", "--scope", "admin", "--data-dir", dir); status != 1 {
		t.Errorf("token create without a key: exit %d, want 1\n%s", status, stderr)
	}
}

// TestCLIVersion: `ledger version` and `ledger --version` print the
// version the Go toolchain recorded in the binary, as `go version -m`
// reports it: the main module's version and, when the build recorded
// one, the VCS revision.
func TestCLIVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, stderr, status := runCLI(t, dir, "version")
	if status != 0 {
		t.Fatalf("ledger version: exit %d\n%s", status, stderr)
	}
	out2, _, status := runCLI(t, dir, "--version")
	if status != 0 || out2 != out {
		t.Fatalf("ledger --version: exit %d, %q; ledger version printed %q", status, out2, out)
	}
	info, err := exec.Command("go", "version", "-m", ledgerBinary(t)).Output()
	if err != nil {
		t.Fatal(err)
	}
	var modVersion, revision, goVersion string
	for i, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line)
		switch {
		case i == 0 && len(f) == 2:
			goVersion = f[1]
		case len(f) >= 3 && f[0] == "mod":
			modVersion = f[2]
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			revision = strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	if modVersion == "" || goVersion == "" {
		t.Fatalf("go version -m printed no module or Go version:\n%s", info)
	}
	if !strings.HasPrefix(out, "ledger "+modVersion) || !strings.Contains(out, goVersion) || !strings.Contains(out, revision) {
		t.Fatalf("ledger version printed %q; the binary records version %s, revision %q, %s", out, modVersion, revision, goVersion)
	}
}

// TestServeBusyPortReportsTheBindErrorFirst: serve on a port in use fails
// at once with the bind error as its first words, before it opens the
// data directory (which used to log start-up warnings first).
func TestServeBusyPortReportsTheBindErrorFirst(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	_, stderr, status := runCLI(t, dir, "serve", "--data-dir", dataDir, "--http-addr", ln.Addr().String())
	if status != 1 {
		t.Fatalf("serve on a busy port: exit %d, want 1\n%s", status, stderr)
	}
	first, _, _ := strings.Cut(stderr, "\n")
	if !strings.Contains(first, "http listen") || !strings.Contains(first, "address already in use") {
		t.Fatalf("serve on a busy port: first line %q, want the bind error\n%s", first, stderr)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve on a busy port touched its data directory: %v", err)
	}
}
