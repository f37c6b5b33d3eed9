package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
)

// The example verifier outside Go (examples/verify_journal.py, written
// from docs/journal-spec.md with the Python standard library only) must
// pass the spec's test vectors, agree with `ledger audit` and `ledger
// balances` on a real export, and catch what `ledger audit` catches.
// python3 is a requirement of this test, as Go is: without it the test
// fails (.ci/run installs it).

const pythonVerifier = "../../examples/verify_journal.py"

// runPython runs the verifier and returns its output and exit code.
func runPython(t *testing.T, args ...string) (string, int) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to check the example verifier: %v", err)
	}
	cmd := exec.Command(py, append([]string{pythonVerifier}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("python3 %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), 0
}

func TestPythonVerifierPassesTheSpecVectors(t *testing.T) {
	out, code := runPython(t, "--vectors", "../../docs/testdata")
	if code != 0 || !strings.Contains(out, "test vectors: PASSED") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestPythonVerifierAgreesWithLedgerAudit(t *testing.T) {
	dir, head := seedDataDir(t)
	export := filepath.Join(t.TempDir(), "journal.jsonl")
	mustRun(t, "export", "--data-dir", dir, "--out", export)
	lines := readExport(t, export)

	out, code := runPython(t, export)
	if code != 0 || !strings.Contains(out, "PASSED, 12 events, head 12:"+head.String()) {
		t.Fatalf("the verifier on a real export: exit %d\n%s", code, out)
	}
	// The same balances as ledger balances, account by account.
	out, code = runPython(t, export, "--as-of", "8")
	want := mustRun(t, "balances", "--file", export, "--as-of", "8")
	for _, row := range strings.Split(strings.TrimSpace(want), "\n") {
		if !strings.HasPrefix(row, "total,") && !strings.Contains(out, row+"\n") {
			t.Errorf("the verifier's balances as of 8 lack %q:\n%s", row, out)
		}
	}
	if code != 0 {
		t.Fatalf("--as-of 8: exit %d\n%s", code, out)
	}

	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pubHex := hex.EncodeToString(pub)
	cp11 := domain.SignCheckpoint(key, 11, lineHash(t, lines[10])).String()
	cp12 := domain.SignCheckpoint(key, 12, head).String()
	if out, code := runPython(t, export, "--checkpoint", cp11, "--checkpoint", cp12, "--public-key", pubHex); code != 0 {
		t.Fatalf("the verifier through two checkpoints: exit %d\n%s", code, out)
	}

	nonCanonical := readExport(t, export)
	nonCanonical[7] = bytes.Replace(nonCanonical[7], []byte(`"id":"t1"`), []byte(`"id":"t\u0031"`), 1)
	rechain(nonCanonical, 7)
	_, other, _ := ed25519.GenerateKey(nil)
	cases := []struct {
		name  string
		lines [][]byte
		args  []string
		want  string
	}{
		{"rewritten tail", forgeTail(t, lines, 11), []string{"--checkpoint", cp11}, "checkpoint at sequence 11"},
		{"rewritten tail, old head", forgeTail(t, lines, 11), []string{"--checkpoint", cp12}, "checkpoint at sequence 12: the journal ends at 11"},
		{"truncated", lines[:10], []string{"--checkpoint", cp12}, "checkpoint at sequence 12: the journal ends at 10"},
		{"another key's checkpoint", lines, []string{"--checkpoint", domain.SignCheckpoint(other, 12, head).String()}, "checkpoint at sequence 12: the signature"},
		{"a re-hashed non-canonical line", nonCanonical, nil, "canonical at sequence 8"},
		{"a re-hashed altered amount", alterAmount(t, lines), nil, "balance_after at sequence 8"},
	}
	for _, c := range cases {
		path := writeExport(t, c.lines)
		if c.args == nil {
			if out, code := runPython(t, path); code != 1 || !strings.Contains(out, c.want) {
				t.Errorf("%s: exit %d\n%s", c.name, code, out)
			}
			continue
		}
		if out, code := runPython(t, path); code != 0 && c.name != "another key's checkpoint" {
			t.Errorf("%s passes the chain on its own, but the verifier says: exit %d\n%s", c.name, code, out)
		}
		args := append(append([]string{path}, c.args...), "--public-key", pubHex)
		if out, code := runPython(t, args...); code != 1 || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d\n%s", c.name, code, out)
		}
	}
}

// alterAmount changes the amount of event 8 (t1, 30.25) in its line and
// its entries and re-hashes the chain: the books no longer add up.
func alterAmount(t *testing.T, lines [][]byte) [][]byte {
	t.Helper()
	out := append([][]byte{}, lines...)
	out[7] = bytes.ReplaceAll(bytes.Clone(out[7]), []byte(`"amount":"30.25"`), []byte(`"amount":"3.25"`))
	rechain(out, 7)
	return out
}

// writeFXScenario decides and appends fifteen events: three assets, four
// accounts, a mint, a memo, a conversion refused for want of a rate, the
// rate set, conversions at the table's rate (event 12: 10.01 USD at 0.92
// is 9.2092, rounded down to 9.20 EUR) and at the request's, and a
// transfer.
func writeFXScenario(t *testing.T, js jetstream.JetStream, names journalio.Names) domain.Hash {
	t.Helper()
	return writeCommands(t, js, names, []domain.Command{
		{Asset: &domain.Asset{Code: "USD", Scale: 2}},
		{Asset: &domain.Asset{Code: "EUR", Scale: 2}},
		{Asset: &domain.Asset{Code: "JPY", Scale: 0}},
		{Account: &domain.Account{ID: "alice", Asset: "USD"}},
		{Account: &domain.Account{ID: "bob", Asset: "USD"}},
		{Account: &domain.Account{ID: "carol", Asset: "EUR"}},
		{Account: &domain.Account{ID: "yuki", Asset: "JPY"}},
		{Transfer: &domain.Transfer{ID: "m1", From: domain.World, To: "alice", Amount: "100"}},
		{Transfer: &domain.Transfer{ID: "memo1", From: "alice", To: "bob", Amount: "0", Memo: true, Reference: "free hat"}},
		{Transfer: &domain.Transfer{ID: "x1", From: "alice", To: "carol", Amount: "10.01"}}, // rate_not_found
		{Rate: &domain.RateSet{Base: "USD", Quote: "EUR", Rate: "0.92"}},
		{Transfer: &domain.Transfer{ID: "x1", From: "alice", To: "carol", Amount: "10.01"}},                     // 9.20 EUR
		{Transfer: &domain.Transfer{ID: "x2", From: "carol", To: "yuki", Amount: "5", ExchangeRate: "162.375"}}, // 811 JPY
		{Transfer: &domain.Transfer{ID: "x3", From: "yuki", To: "bob", Amount: "100", ExchangeRate: "0.00667"}}, // 0.66 USD
		{Transfer: &domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "1"}},
	})
}

// exportBothPass seeds a data directory with scenario, exports its
// journal, and fails unless the export holds every feature string and
// both ledger audit and the example verifier pass it, with events events.
// It returns the export's path and lines.
func exportBothPass(t *testing.T, scenario func(*testing.T, jetstream.JetStream, journalio.Names) domain.Hash, events int, features ...string) (string, [][]byte) {
	t.Helper()
	dir, head := seedDataDirWith(t, scenario)
	export := filepath.Join(t.TempDir(), "journal.jsonl")
	mustRun(t, "export", "--data-dir", dir, "--out", export)
	lines := readExport(t, export)
	for _, want := range features {
		if !bytes.Contains(bytes.Join(lines, nil), []byte(want)) {
			t.Fatalf("the export has no %s", want)
		}
	}
	if out := mustRun(t, "audit", "--file", export); !strings.Contains(out, "PASSED") {
		t.Fatalf("ledger audit:\n%s", out)
	}
	out, code := runPython(t, export)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("PASSED, %d events, head %d:%s", events, events, head)) {
		t.Fatalf("the verifier on a real export: exit %d\n%s", code, out)
	}
	return export, lines
}

func TestPythonVerifierAgreesOnMemosAndConversions(t *testing.T) {
	export, lines := exportBothPass(t, writeFXScenario, 15,
		`"memo":true`, `"type":"RateSet"`, `"rate_from":"table"`, `"rate_from":"request"`, `"code":"rate_not_found"`)
	// The same balances as ledger balances, the FX positions included,
	// before the table's rate is used and at the end.
	for _, seq := range []string{"11", "15"} {
		out, code := runPython(t, export, "--as-of", seq)
		want := mustRun(t, "balances", "--file", export, "--as-of", seq)
		if code != 0 || seq == "15" && !strings.Contains(want, "account,fx,EUR,") {
			t.Fatalf("--as-of %s: exit %d\n%s\nledger balances:\n%s", seq, code, out, want)
		}
		rows := 0
		for _, row := range strings.Split(strings.TrimSpace(want), "\n") {
			if strings.HasPrefix(row, "account,") {
				rows++
			}
			if !strings.HasPrefix(row, "total,") && !strings.Contains(out, row+"\n") {
				t.Errorf("the verifier's balances as of %s lack %q:\n%s", seq, row, out)
			}
		}
		if got := strings.Count(out, "\naccount,"); got != rows {
			t.Errorf("as of %s the verifier lists %d accounts, ledger balances %d:\n%s", seq, got, rows, out)
		}
	}

	// A forger who credits 9.21 EUR for 10.01 USD at 0.92, everywhere in
	// the line (to_amount, both EUR legs and their balances), and re-hashes
	// the chain; one who changes to_amount alone; one who gives a posting
	// a rate.
	for _, c := range []struct {
		name, old, new, want, wantPy string
	}{
		{"to_amount and its legs", `9.20"`, `9.21"`, "consistency at sequence 12", ""},
		{"to_amount alone", `"to_amount":"9.20"`, `"to_amount":"9.21"`, "schema at sequence 12", ""},
		// A rate on a transfer of one asset: the ledger cannot load it.
		// The verifier reads a payload's members from its schema, where a
		// posting has no exchange_rate: for it the line is not canonical.
		{"a posting with a rate", `"amount":"1.00","asset":"USD",`, `"amount":"1.00","asset":"USD","exchange_rate":"1",`, "schema at sequence 15", "canonical at sequence 15"},
	} {
		if c.wantPy == "" {
			c.wantPy = c.want
		}
		forged := append([][]byte{}, lines...)
		at := slices.IndexFunc(forged, func(l []byte) bool { return bytes.Contains(l, []byte(c.old)) })
		if at < 0 || !strings.HasSuffix(c.want, fmt.Sprintf(" %d", at+1)) {
			t.Fatalf("%s: %s is not in event %s", c.name, c.old, c.want)
		}
		forged[at] = bytes.ReplaceAll(bytes.Clone(forged[at]), []byte(c.old), []byte(c.new))
		rechain(forged, at)
		path := writeExport(t, forged)
		out, errOut, err := ledgerCmd(t, "audit", "--file", path)
		if err == nil || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%s: ledger audit: %v\n%s%s", c.name, err, out, errOut)
		}
		if out, code := runPython(t, path); code != 1 || !strings.Contains(out, c.wantPy) {
			t.Errorf("%s: the verifier: exit %d\n%s", c.name, code, out)
		}
	}
}
