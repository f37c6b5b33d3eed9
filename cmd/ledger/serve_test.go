package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// serve's tuning flags reach the node's configuration, and values outside
// their range are refused before anything starts.
func TestServeTuningFlags(t *testing.T) {
	c, err := parseServe([]string{"--group-commit-max-items", "250", "--group-commit-max-wait", "2ms", "--max-read-lag", "5000", "--read-wait", "3s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if g := c.node.GroupCommit; g.MaxItems != 250 || g.MaxWait != 2*time.Millisecond || c.node.MaxReadLag != 5000 || c.node.ReadWait != 3*time.Second {
		t.Fatalf("parsed %+v, max read lag %d", g, c.node.MaxReadLag)
	}
	for _, bad := range [][]string{
		{"--group-commit-max-items", "0"},
		{"--group-commit-max-items", "10001"},
		{"--group-commit-max-wait", "-1ms"},
		{"--group-commit-max-wait", "1s"},
		{"--max-read-lag", "999"},
		{"--read-wait", "0s"},
		{"--read-wait", "2m"},
	} {
		if _, err := parseServe(bad, io.Discard); err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("%v: %v, want an error naming the flag", bad, err)
		}
	}
}
