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
	flags := regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(help.String(), -1)
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
