package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/journalio"
)

// seedDataDir writes a small journal for the ledger "default" into a
// fresh data directory, the way the processor writes it, and stops its
// server. It returns the directory and the journal's last hash.
func seedDataDir(t *testing.T) (string, domain.Hash) {
	t.Helper()
	return seedDataDirWith(t, writeScenario)
}

// seedDataDirWith is seedDataDir with the journal that write appends.
func seedDataDirWith(t *testing.T, write func(*testing.T, jetstream.JetStream, journalio.Names) domain.Hash) (string, domain.Hash) {
	t.Helper()
	dir := t.TempDir()
	_, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return dir, write(t, js, journalio.NamesFor("default"))
}

// writeScenario decides and appends twelve events: two assets, three
// accounts, mints and transfers, one rejection.
func writeScenario(t *testing.T, js jetstream.JetStream, names journalio.Names) domain.Hash {
	t.Helper()
	cmds := []domain.Command{
		{Asset: &domain.Asset{Code: "USD", Scale: 2}},
		{Asset: &domain.Asset{Code: "PTS", Scale: 0}},
		{Account: &domain.Account{ID: "alice", Asset: "USD"}},
		{Account: &domain.Account{ID: "bob", Asset: "USD"}},
		{Account: &domain.Account{ID: "pat", Asset: "PTS"}},
		{Transfer: &domain.Transfer{ID: "m1", From: domain.World, To: "alice", Amount: "100"}},
		{Transfer: &domain.Transfer{ID: "m2", From: domain.World, To: "pat", Amount: "7", Asset: "PTS"}},
		{Transfer: &domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "30.25"}},
		{Transfer: &domain.Transfer{ID: "t2", From: "bob", To: "alice", Amount: "99"}}, // rejected
		{Transfer: &domain.Transfer{ID: "t3", From: "bob", To: "alice", Amount: "0.25"}},
		{Transfer: &domain.Transfer{ID: "t4", From: "alice", To: domain.World, Amount: "10"}},
		{Transfer: &domain.Transfer{ID: "t5", From: "pat", To: domain.World, Amount: "2", Asset: "PTS"}},
	}
	return writeCommands(t, js, names, cmds)
}

// writeCommands decides cmds in order, from an empty state, and appends
// each event to the journal as the processor does.
func writeCommands(t *testing.T, js jetstream.JetStream, names journalio.Names, cmds []domain.Command) domain.Hash {
	t.Helper()
	ctx := context.Background()
	if err := infra.EnsureStreams(ctx, js, names); err != nil {
		t.Fatal(err)
	}
	st := domain.NewState()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var prev domain.Hash
	var pos uint64
	journal := infra.NewJournal(js, names)
	for i, c := range cmds {
		c.Ref = domain.CommandRef{Seq: uint64(i + 1)}
		d := st.Decide(c, t0.Add(time.Duration(i)*time.Minute))
		if d.Event == nil {
			t.Fatalf("command %d: %+v", i, d)
		}
		records, last, err := commands.EncodeRecords([]*domain.Event{d.Event}, prev, 1_000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if pos, err = journal.Append(ctx, records, pos); err != nil {
			t.Fatal(err)
		}
		prev = last
	}
	// The commands were never published: as at a ledger's start, the
	// empty commands stream is made to continue after the journal's last
	// decided command.
	if err := infra.EnsureStreams(ctx, js, names); err != nil {
		t.Fatal(err)
	}
	return prev
}

// ledgerCmd runs the command line in-process and returns its outputs.
func ledgerCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := ledgerCmd(t, args...)
	if err != nil {
		t.Fatalf("ledger %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func TestAuditReplayExportBalancesCommands(t *testing.T) {
	dir, head := seedDataDir(t)

	out := mustRun(t, "audit", "--data-dir", dir)
	if !strings.Contains(out, "PASSED") || !strings.Contains(out, "events 1 to 12") || !strings.Contains(out, head.String()) {
		t.Fatalf("audit report:\n%s", out)
	}

	// Rebuild the read model on the stopped ledger and install it; the
	// audit then compares it too.
	out = mustRun(t, "replay", "--data-dir", dir, "--install", "--progress=false")
	if !strings.Contains(out, "replayed 12 events") || !strings.Contains(out, "installed") {
		t.Fatalf("replay:\n%s", out)
	}
	out = mustRun(t, "audit", "--data-dir", dir, "--json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, out)
	}
	if !rep.OK || rep.ReadModel == nil || rep.ReadModel.Checkpoint != 12 || rep.LastHash != head.String() {
		t.Fatalf("audit --json: %+v", rep)
	}

	// Export, then verify offline, with the head the audit printed.
	export := filepath.Join(t.TempDir(), "journal.jsonl")
	mustRun(t, "export", "--data-dir", dir, "--out", export)
	out = mustRun(t, "audit", "--file", export, "--expect-head", "12:"+head.String())
	if !strings.Contains(out, "PASSED") {
		t.Fatalf("audit --file:\n%s", out)
	}
	// A device takes an export too: only regular files are fsynced.
	mustRun(t, "export", "--data-dir", dir, "--out", os.DevNull)
	part := filepath.Join(t.TempDir(), "part.jsonl")
	mustRun(t, "export", "--data-dir", dir, "--from", "4", "--to", "9", "--out", part)
	out = mustRun(t, "audit", "--file", part)
	if !strings.Contains(out, "events 4 to 9") || !strings.Contains(out, "skipped") {
		t.Fatalf("audit of a range:\n%s", out)
	}

	// Tamper with the export: the audit fails and names the event.
	data, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "tampered.jsonl")
	if err := os.WriteFile(tampered, bytes.Replace(data, []byte(`"30.25"`), []byte(`"3.25"`), 3), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = ledgerCmd(t, "audit", "--file", tampered)
	if !errors.Is(err, errAuditFailed) || !strings.Contains(out, "FAILED") || !strings.Contains(out, "hash_chain at sequence 8") {
		t.Fatalf("tampered export: %v\n%s", err, out)
	}

	// Balances as of a sequence, from the journal.
	out = mustRun(t, "balances", "--data-dir", dir, "--as-of", "8")
	want := "kind,account,asset,balance\naccount,pat,PTS,7\naccount,world,PTS,-7\n" +
		"account,alice,USD,69.75\naccount,bob,USD,30.25\naccount,world,USD,-100.00\ntotal,,PTS,7\ntotal,,USD,100.00\n"
	if out != want {
		t.Fatalf("balances --as-of 8:\n%s\nwant:\n%s", out, want)
	}
	out = mustRun(t, "balances", "--file", export, "--as-of", "2026-03-01T00:11:00Z", "--format", "json")
	var st audit.Statement
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.AsOf.Sequence != 12 || len(st.Totals) != 2 ||
		st.Totals[1].Total != "90.00" || st.Totals[0].Total != "5" {
		t.Fatalf("balances --format json: %v\n%s", err, out)
	}
}

func TestAuditCommandAgainstARunningLedger(t *testing.T) {
	dir := t.TempDir()
	password := "s3cret-for-the-test"
	srv, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dir, ListenAddr: "127.0.0.1:-1", User: "ledger", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	head := writeScenario(t, js, journalio.NamesFor("default"))
	url := srv.ClientURL()

	out := mustRun(t, "audit", "--nats-url", url, "--nats-password", password)
	if !strings.Contains(out, "PASSED") || !strings.Contains(out, head.String()) {
		t.Fatalf("audit --nats-url:\n%s", out)
	}
	if _, _, err := ledgerCmd(t, "audit", "--nats-url", url, "--nats-password", "wrong"); err == nil {
		t.Fatal("audit with a wrong password succeeded")
	}
	// Replay while the ledger runs: a new file beside the live one, which
	// is left alone; installing it needs the ledger stopped.
	out = mustRun(t, "replay", "--nats-url", url, "--nats-password", password, "--data-dir", dir, "--progress=false")
	if !strings.Contains(out, "stop the ledger") {
		t.Fatalf("replay --nats-url:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "readmodel.new")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ledgerCmd(t, "replay", "--nats-url", url, "--nats-password", password, "--data-dir", dir, "--install"); err == nil {
		t.Fatal("replay --install through a running ledger's NATS succeeded")
	}
	if _, _, err := ledgerCmd(t, "replay", "--nats-url", url, "--nats-password", password, "--out", filepath.Join(dir, "readmodel"), "--data-dir", dir); err == nil {
		t.Fatal("replay onto the live read model succeeded")
	}
	// The data directory is locked by a running ledger.
	release, err := infra.LockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, _, err := ledgerCmd(t, "audit", "--data-dir", dir); !errors.Is(err, infra.ErrDataDirLocked) {
		t.Fatalf("audit of a locked data directory: %v", err)
	}
}
