package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/bench"
)

// benchWorkers is the concurrency of the dead-target bench.
const benchWorkers = 4

// TestBenchAgainstATargetThatDies runs ledger bench against a ledger
// serve that is killed once the progress shows transfers posted. The
// bench must back off rather than hammer the dead port, report what it
// saw (the posted transfers its progress counted, not "posted 0"), and
// say why its invariants were not checked.
func TestBenchAgainstATargetThatDies(t *testing.T) {
	p := startLedger(t, t.TempDir())
	cmd := exec.Command(ledgerBinary(t), "bench", "--url", p.url, "--token", testAdminToken,
		"--duration", "4s", "--warmup", "0s", "--concurrency", strconv.Itoa(benchWorkers), "--accounts", "4",
		"--ready-wait", "2s", "--json")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	progressRE := regexp.MustCompile(`^bench ledger: .* transfers (\d+) `)
	var seen int64
	var log strings.Builder
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		line := lines.Text()
		log.WriteString(line + "\n")
		if m := progressRE.FindStringSubmatch(line); m != nil && seen == 0 {
			if n, _ := strconv.ParseInt(m[1], 10, 64); n > 0 {
				seen = n
				_ = p.cmd.Process.Kill()
			}
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("bench against a dead target: %v, want exit 1\n%s", err, log.String())
	}
	if seen == 0 {
		t.Fatalf("the progress never showed a posted transfer\n%s", log.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("no report: %v\nstdout: %s\nstderr:\n%s", err, stdout.String(), log.String())
	}
	t.Logf("progress showed %d; report: posted %d, unanswered %d, errors %v, check error %q", seen, rep.Posted, rep.Unanswered, rep.Errors, rep.CheckError)
	if !rep.Ran || rep.Posted < seen {
		t.Errorf("report: ran %v, posted %d; the progress showed %d", rep.Ran, rep.Posted, seen)
	}
	if rep.Checked || rep.InvariantsOK || !strings.Contains(rep.CheckError, "not ready") {
		t.Errorf("report: checked %v, invariants ok %v, check error %q; want unchecked because the ledger is not ready", rep.Checked, rep.InvariantsOK, rep.CheckError)
	}
	if rep.Errors["transport_connection_refused"] == 0 || rep.Unanswered == 0 {
		t.Errorf("report: errors %v, unanswered %d; want the refused connections counted", rep.Errors, rep.Unanswered)
	}
	// Each worker waits 10 ms, 20 ms, ... up to 1 s between attempts on a
	// dead port: in the at most 4 s left of the run, about a dozen
	// attempts each. Without backoff they are tens of thousands.
	if max := int64(benchWorkers * 25); rep.Unanswered > max {
		t.Errorf("%d requests went unanswered (%v): more than %d, the bench did not back off", rep.Unanswered, rep.Errors, max)
	}
	if !strings.Contains(rep.CheckError, "connection refused") || !strings.Contains(log.String(), "not ready after 2s") {
		t.Errorf("the error does not say why the check was not made:\n%s", log.String())
	}
}
