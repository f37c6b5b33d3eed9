package audit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/projections"
)

// replay builds a read model of l's journal at path.
func replay(t testing.TB, l *ledger, path string, opts audit.ReplayOptions) audit.ReplayStats {
	t.Helper()
	opts.Out = path
	st, err := audit.Replay(context.Background(), l.source(), opts)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	return st
}

// auditWith audits l's journal against the read model at path.
func auditWith(t testing.TB, l *ledger, path string) *audit.Report {
	t.Helper()
	snap, err := projections.OpenSnapshot(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	return run(t, l.source(), audit.Options{ReadModel: snap, ReadModelPath: path}).Report
}

// alter changes the read model at path with the Editor, as a bug or a
// person with the files might.
func alter(t testing.TB, path string, edit func(*projections.Editor) error) {
	t.Helper()
	if err := projections.Edit(path, edit); err != nil {
		t.Fatalf("alter the read model: %v", err)
	}
}

// transferEdit returns an edit of transfer id's row by fn.
func transferEdit(id string, fn func(*projections.TransferEdit)) func(*projections.Editor) error {
	return func(e *projections.Editor) error { return e.UpdateTransfer(id, fn) }
}

func TestReplayBuildsAReadModelTheAuditAccepts(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	path := filepath.Join(t.TempDir(), "readmodel.new")
	var progressed int
	st := replay(t, l, path, audit.ReplayOptions{Progress: func(n int) { progressed += n }})
	if st.Events != 15 || st.Applied != 15 || st.LastSeq != 15 || st.From != 1 || progressed != 15 {
		t.Fatalf("replay: %+v, progress %d", st, progressed)
	}
	rep := auditWith(t, l, path)
	mustOK(t, rep)
	if rep.ReadModel == nil || rep.ReadModel.Checkpoint != 15 || rep.ReadModel.Accounts != 6 || rep.ReadModel.Postings != 7 {
		t.Fatalf("read model info: %+v", rep.ReadModel)
	}
	store, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := store.Account(context.Background(), "carol", "")
	store.Close()
	if err != nil || v.Balance != "-5.00" {
		t.Fatalf("carol: %+v %v", v, err)
	}

	// The journal moves on: the read model, at 15, is compared at 15.
	l.Batch(journaltest.Transfer("t6", "alice", "bob", "1"))
	mustOK(t, auditWith(t, l, path))
	// Continue applies the tail only; From must match the file.
	if _, err := audit.Replay(context.Background(), l.source(), audit.ReplayOptions{Out: path, From: 3}); err == nil ||
		!strings.Contains(err.Error(), "stands at sequence 15") {
		t.Fatalf("replay from 3 onto a file at 15: %v", err)
	}
	st = replay(t, l, path, audit.ReplayOptions{From: 16})
	if st.Events != 16 || st.Applied != 1 || st.LastSeq != 16 || st.From != 16 {
		t.Fatalf("continued replay: %+v", st)
	}
	mustOK(t, auditWith(t, l, path))
	// From scratch again replaces the file.
	if st = replay(t, l, path, audit.ReplayOptions{}); st.Applied != 16 {
		t.Fatalf("replay from scratch: %+v", st)
	}
}

func TestReadModelDivergence(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	built := filepath.Join(t.TempDir(), "built")
	replay(t, l, built, audit.ReplayOptions{})
	cases := []divergence{
		{"account balance (its latest entry)", transferEdit("t5", func(r *projections.TransferEdit) { r.DebitBalance = "999.00" }), 15, "bob", "debit entry of bob: balance after 999.00, recomputed 60.00"},
		{"issuer balance (its only JPY entry)", transferEdit("m3", func(r *projections.TransferEdit) { r.DebitBalance = "0" }), 9, "world", "debit entry of world: balance after 0, recomputed -1000"},
		{"overdraft limit", func(e *projections.Editor) error { return e.SetOverdraftLimit("carol", "", "1000.00") }, 14, "carol", "overdraft limit 1000.00, journaled 10.00"},
		// t1 is alice's debit at sequence 10.
		{"entry balance", transferEdit("t1", func(r *projections.TransferEdit) { r.DebitBalance = "1.00" }), 10, "alice", "debit entry of alice: balance after 1.00, recomputed 74.50"},
		{"posting lost", func(e *projections.Editor) error { return e.DeleteTransfer("t2") }, 11, "bob", "lacks transfer t2"},
		{"posting reference", transferEdit("t1", func(r *projections.TransferEdit) { r.Reference = "forged" }), 10, "alice", `transfer t1: reference "forged", the journal's ""`},
		{"posting metadata", transferEdit("t1", func(r *projections.TransferEdit) { r.Metadata = map[string]string{"k": "v"} }), 10, "alice", "transfer t1: metadata map[k:v], the journal's map[]"},
		{"posting time", transferEdit("t1", func(r *projections.TransferEdit) { r.AtUnixNanos = 0 }), 10, "alice", "transfer t1: time 1970-01-01T00:00:00Z, the journal's"},
		{"posting amount", transferEdit("t1", func(r *projections.TransferEdit) { r.Amount = "1.00" }), 10, "alice", `transfer t1: amount "1.00", the journal's "25.50"`},
		{"posting hash", transferEdit("t1", func(r *projections.TransferEdit) { r.Hash = strings.Repeat("0", 64) }), 10, "alice", `transfer t1: hash "` + strings.Repeat("0", 64) + `", the journal's "`},
		{"rejection hash", transferEdit("t4", func(r *projections.TransferEdit) { r.Hash = "" }), 13, "dave", `rejected transfer t4: hash "", the journal's "`},
		{"posting invented", transferEdit("t4", func(r *projections.TransferEdit) {
			r.Status, r.DebitBalance, r.CreditBalance = projections.StatusPosted, "0", "0"
		}), 13, "dave", "where the journal has no posting"},
		{"account lost", func(e *projections.Editor) error { return e.DeleteAccount("kenji", "") }, 6, "kenji", "lacks this account"},
		{"checkpoint ahead", func(e *projections.Editor) error { return e.SetCheckpointSeq(20) }, 20, "", "past the journal's last sequence 15"},
	}
	checkDivergences(t, l, built, cases)
}

// copyDir copies the read model's directory from to the new directory to.
func copyDir(t testing.TB, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

func TestInstall(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	dir := t.TempDir()
	live := filepath.Join(dir, "readmodel")
	replay(t, l, live, audit.ReplayOptions{})
	// The live store as a server leaves it: behind.
	l.Batch(journaltest.Transfer("t6", "alice", "bob", "1"))
	built := live + ".new"
	replay(t, l, built, audit.ReplayOptions{})
	if err := audit.Install(context.Background(), built, live); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{built, live + ".old"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", filepath.Base(p), err)
		}
	}
	store, err := projections.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := store.Checkpoint(context.Background())
	store.Close()
	if err != nil || cp.Seq != 16 {
		t.Fatalf("installed read model at %+v, %v", cp, err)
	}
	mustOK(t, auditWith(t, l, live))
	if err := audit.Install(context.Background(), built, live); err == nil {
		t.Fatal("installed a file that is not there")
	}
}

// TestJournalStreamTampered appends records to the journal stream that the
// processor never wrote: the audit of the stream finds them and a replay
// refuses to build on them.
func TestJournalStreamTampered(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	publish := func(data []byte, first, last string) { publishRaw(t, l, data, first, last) }
	// A copy of event 10 appended again: intact, but out of order and off
	// the chain.
	lines := l.export(10, 10)
	publish(lines[0], "10", "10")
	rep := run(t, l.source(), audit.Options{}).Report
	f, ok := rep.First(audit.CheckSequence)
	if rep.OK || !ok || f.Seq != 10 || !strings.Contains(f.Detail, "out of order") {
		t.Fatalf("findings: %v", rep.Findings)
	}
	if f, ok := rep.First(audit.CheckHashChain); !ok || f.Seq != 10 || !strings.Contains(f.Detail, "intact") {
		t.Fatalf("chain finding: %v", rep.Findings)
	}
	if f, ok := rep.First(audit.CheckUnique); !ok || !strings.Contains(f.Detail, "transfer t1 posted again") {
		t.Fatalf("unique finding: %v", rep.Findings)
	}
	_, err := audit.Replay(context.Background(), l.source(), audit.ReplayOptions{Out: filepath.Join(t.TempDir(), "rm")})
	if !errors.Is(err, audit.ErrFailed) {
		t.Fatalf("replay of a tampered journal: %v", err)
	}
}

func TestReplayLeavesOtherFilesAlone(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte("not a read model"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Replay(context.Background(), l.source(), audit.ReplayOptions{Out: path}); err == nil ||
		!strings.Contains(err.Error(), "not a read model") {
		t.Fatalf("replay over another file: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "not a read model" {
		t.Fatalf("the file was touched: %q %v", b, err)
	}
}

func TestJournalRecordMalformed(t *testing.T) {
	l := newLedger(t)
	seedScenario(l)
	msg := nats.NewMsg(l.Names.EventSubject(string(domain.EventTransferPosted)))
	msg.Data = []byte(`{"seq":16}`) // no newline, no hash
	msg.Header.Set(journalio.HeaderFirstSeq, "16")
	msg.Header.Set(journalio.HeaderLastSeq, "17")
	msg.Header.Set(journalio.HeaderFormat, journalio.RecordFormat)
	if _, err := l.JS.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	rep := run(t, l.source(), audit.Options{}).Report
	want := map[audit.Check]bool{audit.CheckSchema: false, audit.CheckHashChain: false, audit.CheckSequence: false}
	for _, f := range rep.Findings {
		if _, ok := want[f.Check]; ok && f.Seq == 16 {
			want[f.Check] = true
		}
	}
	for c, found := range want {
		if !found {
			t.Errorf("no %s finding at 16: %v", c, rep.Findings)
		}
	}
}

// divergence is one altered read model: the edit that alters a copy of
// it, and the first read_model finding the audit must report.
type divergence struct {
	name    string
	edit    func(*projections.Editor) error
	seq     uint64
	account string
	detail  string
}

// checkDivergences audits a copy of the read model built, altered by each
// case's edit, against l's journal: the first read_model finding is
// the case's, and every finding is a read_model one.
func checkDivergences(t *testing.T, l *ledger, built string, cases []divergence) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "readmodel")
			copyDir(t, built, path)
			alter(t, path, tc.edit)
			rep := auditWith(t, l, path)
			f, ok := rep.First(audit.CheckReadModel)
			if rep.OK || !ok {
				t.Fatalf("divergence not found: %+v", rep.Findings)
			}
			if f.Seq != tc.seq || f.Account != tc.account || !strings.Contains(f.Detail, tc.detail) {
				t.Fatalf("finding %s, want sequence %d account %q containing %q; all %v", f, tc.seq, tc.account, tc.detail, rep.Findings)
			}
			for _, other := range rep.Findings {
				if other.Check != audit.CheckReadModel {
					t.Errorf("a read model's divergence reported as %s", other)
				}
			}
		})
	}
}
