package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serve's tuning flags reach the node's configuration, and values outside
// their range are refused before anything starts.
func TestServeTuningFlags(t *testing.T) {
	c, err := parseServe([]string{"--group-commit-max-items", "250", "--group-commit-max-wait", "2ms", "--max-read-lag", "5000", "--read-wait", "3s", "--hot-ids", "2000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if g := c.node.GroupCommit; g.MaxItems != 250 || g.MaxWait != 2*time.Millisecond || c.node.MaxReadLag != 5000 || c.node.ReadWait != 3*time.Second || c.node.HotIDs != 2000 {
		t.Fatalf("parsed %+v, max read lag %d, hot ids %d", g, c.node.MaxReadLag, c.node.HotIDs)
	}
	for _, bad := range [][]string{
		{"--group-commit-max-items", "0"},
		{"--group-commit-max-items", "10001"},
		{"--group-commit-max-wait", "-1ms"},
		{"--group-commit-max-wait", "1s"},
		{"--max-read-lag", "999"},
		{"--read-wait", "0s"},
		{"--read-wait", "2m"},
		{"--hot-ids", "999"},
	} {
		if _, err := parseServe(bad, io.Discard); err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("%v: %v, want an error naming the flag", bad, err)
		}
	}
}

// Every serve flag has its environment variable, which the command line
// overrides, and docs/operations.md lists each flag with it.
func TestServeFlagsFromTheEnvironment(t *testing.T) {
	t.Setenv("LEDGER_READ_WAIT", "7s")
	t.Setenv("LEDGER_MAX_READ_LAG", "4000")
	t.Setenv("LEDGER_NAME", "envledger")
	t.Setenv("LEDGER_SYNC_ALWAYS", "true")
	t.Setenv("LEDGER_HOT_IDS", "5000")
	c, err := parseServe([]string{"--max-read-lag", "6000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.node.ReadWait != 7*time.Second || c.node.MaxReadLag != 6000 || c.node.Ledger != "envledger" || !c.node.SyncAlways || c.node.HotIDs != 5000 {
		t.Fatalf("read wait %s, max read lag %d, ledger %q, sync %v, hot ids %d", c.node.ReadWait, c.node.MaxReadLag, c.node.Ledger, c.node.SyncAlways, c.node.HotIDs)
	}
	t.Setenv("LEDGER_SYNC_ALWAYS", "yes")
	if _, err := parseServe(nil, io.Discard); err == nil || !strings.Contains(err.Error(), "LEDGER_SYNC_ALWAYS") || exitStatus(err) != 2 {
		t.Fatalf("a bad value: %v, want a usage error naming the variable", err)
	}

	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var help strings.Builder
	t.Setenv("LEDGER_SYNC_ALWAYS", "")
	if _, err := parseServe([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	flags := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(help.String(), -1)
	if len(flags) < 20 {
		t.Fatalf("only %d flags in the help:\n%s", len(flags), help.String())
	}
	// Every variable docs/operations.md lists is in the help, those
	// without a flag too.
	for _, v := range regexp.MustCompile("(?m)^\\|[^|]*\\| `(LEDGER_[A-Z_]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		if !strings.Contains(help.String(), v[1]) {
			t.Errorf("docs/operations.md lists %s, which the help does not", v[1])
		}
	}
	for _, f := range flags {
		row := fmt.Sprintf("| `--%s` | `%s` |", f[1], envName(f[1]))
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/operations.md has no row starting %s", row)
		}
		if !strings.Contains(help.String(), "(env "+envName(f[1])) {
			t.Errorf("the help of --%s does not name %s", f[1], envName(f[1]))
		}
	}
}

// The roles and the external NATS come from flags or their variables; a
// set of roles without an external NATS, and settings of the embedded
// server with one, are refused before anything starts.
func TestServeRolesAndExternalNATSFlags(t *testing.T) {
	t.Setenv("LEDGER_ROLE", "processor")
	t.Setenv("LEDGER_NATS_PASSWORD", "pw")
	t.Setenv("LEDGER_REPLICAS", "3")
	c, err := parseServe([]string{"--nats-url", "nats://127.0.0.1:4222,nats://127.0.0.1:4223", "--nats-user", "ledger"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.node.Roles.String() != "processor" || len(c.node.NATS.URLs) != 2 || c.node.NATS.User != "ledger" || c.node.NATS.Password != "pw" || c.node.Replicas != 3 {
		t.Fatalf("roles %s, nats %+v", c.node.Roles, c.node.NATS)
	}
	t.Setenv("LEDGER_ROLE", "")
	t.Setenv("LEDGER_NATS_PASSWORD", "")
	t.Setenv("LEDGER_REPLICAS", "")
	c, err = parseServe([]string{"--role", "api", "--role", "projector,api", "--nats-url", "nats://127.0.0.1:4222"}, io.Discard)
	if err != nil || c.node.Roles.String() != "api,projector" {
		t.Fatalf("roles %s: %v", c.node.Roles, err)
	}
	for _, bad := range [][]string{
		{"--role", "api"},
		{"--role", "writer", "--nats-url", "nats://127.0.0.1:4222"},
		{"--nats-url", "nats://127.0.0.1:4222", "--nats-listen", "4222"},
		{"--nats-url", "nats://127.0.0.1:4222", "--sync-always"},
		{"--nats-url", "nats://127.0.0.1:4222", "--nats-user", "ledger"},
		{"--nats-url", "nats://127.0.0.1:4222", "--nats-tls-cert", "c.pem"},
		{"--role", "processor", "--nats-url", "nats://127.0.0.1:4222", "--compat", "mercury=127.0.0.1:0"},
		{"--replicas", "3"},
		{"--replicas", "6", "--nats-url", "nats://127.0.0.1:4222"},
		{"--replicas", "0", "--nats-url", "nats://127.0.0.1:4222"},
	} {
		if _, err := parseServe(bad, io.Discard); err == nil || exitStatus(err) != 2 {
			t.Errorf("%v: %v, want a usage error", bad, err)
		}
	}
}
