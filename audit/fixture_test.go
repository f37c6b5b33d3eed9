package audit_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
)

// minute is the fixture's clock: batch n is stamped 2026-03-01 + n minutes.
var minute = journaltest.Minutes(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))

// ledger is a real journal (journaltest.Journal) on the fixture's clock.
// Beside it, a reference model (points) keeps the balances with
// shopspring/decimal, from the decisions alone, to check the audit's books
// against.
type ledger struct {
	*journaltest.Journal
}

// point is the reference model after a batch.
type point struct {
	seq      uint64
	at       time.Time
	balances map[[2]string]decimal.Decimal
}

func newLedger(t testing.TB) *ledger {
	t.Helper()
	return &ledger{journaltest.New(t, journaltest.WithClock(minute))}
}

func (l *ledger) source() *audit.JetStreamSource {
	return &audit.JetStreamSource{JS: l.JS, Names: l.Names, Label: "test"}
}

// points runs the reference model over the journal's batches and returns
// it after each.
func (l *ledger) points() []point {
	ref := map[[2]string]decimal.Decimal{} // (account, asset) -> balance
	var out []point
	for _, b := range l.Log {
		for _, ev := range b.Events {
			reference(ref, ev)
		}
		out = append(out, point{seq: b.Seq, at: b.At, balances: maps.Clone(ref)})
	}
	return out
}

// reference applies a decided event to the reference model.
func reference(ref map[[2]string]decimal.Decimal, ev *domain.Event) {
	switch ev.Type {
	case domain.EventAssetDefined:
		ref[[2]string{domain.World, ev.Asset.Code}] = decimal.Zero
	case domain.EventAccountOpened:
		ref[[2]string{ev.Account.ID, ev.Account.Asset}] = decimal.Zero
	case domain.EventTransferPosted:
		t := ev.Transfer
		amount := decimal.RequireFromString(t.Amount)
		from, to := [2]string{t.From, t.Asset}, [2]string{t.To, t.Asset}
		ref[from] = ref[from].Sub(amount)
		ref[to] = ref[to].Add(amount)
	}
}

// seedScenario writes journaltest's books scenario with a replay of t1 in
// batch 5, answered without an event, and minute 6 passing without a
// batch: it ends at sequence 15, and later batches are at minute 7 on.
func seedScenario(l *ledger) {
	l.T.Helper()
	l.Seed(journaltest.Scenario{Replay: true, Idle: true})
}

// export writes the journal from..to to a file and returns its lines.
func (l *ledger) export(from, to uint64) [][]byte {
	l.T.Helper()
	var buf bytes.Buffer
	if _, err := audit.Export(context.Background(), l.source(), from, to, &buf); err != nil {
		l.T.Fatalf("export: %v", err)
	}
	return bytes.SplitAfter(buf.Bytes(), []byte{'\n'})[:bytes.Count(buf.Bytes(), []byte{'\n'})]
}

// writeLines writes lines (each with its '\n') to a file and returns its
// path.
func writeLines(t testing.TB, lines [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// run audits src and fails the test on a read error. Where the run
// checks postings without their events (no read model, no OnChunk), it
// audits src again with every posting's event and fails the test unless
// both give the same report, finding for finding, and the same books: the
// differential test of the compact path on every journal the tests
// build, hostile ones included.
func run(t testing.TB, src audit.Source, opts audit.Options) *audit.Result {
	t.Helper()
	res, err := audit.Run(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	if fs, ok := src.(*audit.FileSource); opts.ReadModel == nil && opts.OnChunk == nil && !(ok && fs.Stdin != nil) {
		mustAgreeWithEvents(t, src, opts, res)
	}
	return res
}

// mustAgreeWithEvents audits src again with every posting's event and
// fails t unless it gives what res says.
func mustAgreeWithEvents(t testing.TB, src audit.Source, opts audit.Options, res *audit.Result) {
	t.Helper()
	defer audit.SetCompactPostings(audit.SetCompactPostings(false))
	with, err := audit.Run(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("audit with events: %v", err)
	}
	a, b := *res.Report, *with.Report
	a.ElapsedSecs, a.EventsPerSec, b.ElapsedSecs, b.EventsPerSec = 0, 0, 0, 0
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("without and with the postings' events, the reports differ:\n%+v\n%+v", a, b)
	}
	bal, tot := res.Books.Balances()
	wbal, wtot := with.Books.Balances()
	if !reflect.DeepEqual(bal, wbal) || !reflect.DeepEqual(tot, wtot) ||
		res.Books.Seq() != with.Books.Seq() || res.Books.Time() != with.Books.Time() {
		t.Fatalf("without and with the postings' events, the books differ: %v %v at %d %s; %v %v at %d %s",
			bal, tot, res.Books.Seq(), res.Books.Time(), wbal, wtot, with.Books.Seq(), with.Books.Time())
	}
}

func mustOK(t testing.TB, rep *audit.Report) {
	t.Helper()
	if !rep.OK {
		var b bytes.Buffer
		_ = rep.WriteText(&b)
		t.Fatalf("audit failed:\n%s", b.String())
	}
}

// mustAgreeWithReplayedReadModel replays l's journal into a new read model
// and fails unless the audit finds it equal to the books; it returns the
// read model's path.
func mustAgreeWithReplayedReadModel(t *testing.T, l *ledger) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "readmodel")
	replay(t, l, path, audit.ReplayOptions{})
	mustOK(t, auditWith(t, l, path))
	return path
}
