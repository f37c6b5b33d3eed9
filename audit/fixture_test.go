package audit_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/natstest"
)

// t0 is the fixture's epoch: batch n is stamped t0 + n minutes.
var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// ledger is a real journal on an in-process JetStream, written the way the
// processor writes it: decided by domain.State, encoded by
// commands.EncodeRecords, appended by infra.Journal. Beside it, a
// reference model keeps the balances with shopspring/decimal, from the
// decisions alone, to check the audit's books against.
type ledger struct {
	t       testing.TB
	srv     *natstest.Server
	w       *natstest.Writer
	batches int

	ref    map[[2]string]decimal.Decimal // (account, asset) -> balance
	points []point                       // the reference after each batch
}

// point is the reference model after a batch.
type point struct {
	seq      uint64
	at       time.Time
	balances map[[2]string]decimal.Decimal
}

func newLedger(t testing.TB) *ledger {
	t.Helper()
	srv := natstest.Start(t, t.TempDir())
	return &ledger{t: t, srv: srv, w: srv.Writer(), ref: map[[2]string]decimal.Decimal{}}
}

func (l *ledger) source() *audit.JetStreamSource {
	return &audit.JetStreamSource{JS: l.srv.JS, Names: l.srv.Names, Label: "test"}
}

// batch decides cmds as one processor batch stamped minute(n) for the n-th
// batch, appends the resulting events (one record per run of a type, as
// the processor does) and returns the decisions.
func (l *ledger) batch(cmds ...domain.Command) []domain.Decision {
	l.t.Helper()
	l.batches++
	now := minute(l.batches)
	out, events := l.w.Batch(l.t, now, cmds...)
	for _, ev := range events {
		l.reference(ev)
	}
	snap := make(map[[2]string]decimal.Decimal, len(l.ref))
	for k, v := range l.ref {
		snap[k] = v
	}
	l.points = append(l.points, point{seq: l.w.State.Seq(), at: now, balances: snap})
	return out
}

// reference applies a decided event to the reference model.
func (l *ledger) reference(ev *domain.Event) {
	switch ev.Type {
	case domain.EventAssetDefined:
		l.ref[[2]string{domain.World, ev.Asset.Code}] = decimal.Zero
	case domain.EventAccountOpened:
		l.ref[[2]string{ev.Account.ID, ev.Account.Asset}] = decimal.Zero
	case domain.EventTransferPosted:
		t := ev.Transfer
		amount := decimal.RequireFromString(t.Amount)
		from, to := [2]string{t.From, t.Asset}, [2]string{t.To, t.Asset}
		l.ref[from] = l.ref[from].Sub(amount)
		l.ref[to] = l.ref[to].Add(amount)
	}
}

func defineAsset(code string, scale int) domain.Command {
	return domain.Command{DefineAsset: &domain.Asset{Code: code, Scale: scale}}
}

func openAccount(id, asset, limit string) domain.Command {
	return domain.Command{OpenAccount: &domain.Account{ID: id, Asset: asset, OverdraftLimit: limit}}
}

func transfer(id, from, to, amount string) domain.Command {
	return domain.Command{Transfer: &domain.Transfer{ID: id, From: from, To: to, Amount: amount}}
}

// seedScenario writes five batches at minutes 1-5:
//
//	seq 1-2   (1) assets USD (scale 2), JPY (scale 0)
//	seq 3-6   (2) accounts alice, bob, carol (overdraft 10), kenji (JPY)
//	seq 7-9   (3) mints m1 world->alice 100, m2 world->bob 50.5, m3 world->kenji 1000 JPY
//	seq 10-13 (4) t1 alice->bob 25.50, t2 bob->carol 10, t3 carol->alice 500 rejected, t4 dave->alice rejected
//	seq 14-15 (5) t3 carol->alice 15 posted, t5 bob->world 6 (burn), and a
//	              replay of t1, answered without an event
//
// Final balances: alice 89.50, bob 60.00, carol -5.00, world USD -144.50,
// kenji 1000, world JPY -1000.
func seedScenario(l *ledger) {
	l.t.Helper()
	l.batch(defineAsset("USD", 2), defineAsset("JPY", 0))
	l.batch(openAccount("alice", "USD", ""), openAccount("bob", "USD", ""), openAccount("carol", "USD", "10"), openAccount("kenji", "JPY", ""))
	l.batch(transfer("m1", "world", "alice", "100"), transfer("m2", "world", "bob", "50.5"),
		domain.Command{Transfer: &domain.Transfer{ID: "m3", From: "world", To: "kenji", Amount: "1000", Asset: "JPY"}})
	ds := l.batch(transfer("t1", "alice", "bob", "25.5"), transfer("t2", "bob", "carol", "10"),
		transfer("t3", "carol", "alice", "500"), transfer("t4", "dave", "alice", "1"))
	if ds[2].Outcome != domain.Rejected || ds[3].Outcome != domain.Rejected {
		l.t.Fatalf("scenario: t3, t4 should be rejected: %+v %+v", ds[2], ds[3])
	}
	ds = l.batch(transfer("t3", "carol", "alice", "15"), transfer("t5", "bob", "world", "6"), transfer("t1", "alice", "bob", "25.50"))
	if ds[0].Outcome != domain.Posted || ds[1].Outcome != domain.Posted {
		l.t.Fatalf("scenario: t3, t5 should post: %+v %+v", ds[0], ds[1])
	}
	if ds[2].Outcome != domain.Replayed {
		l.t.Fatalf("scenario: t1 again should be a replay: %+v", ds[2])
	}
	l.batches++ // minute 6 passes without a batch; later batches are at minute 7 on
	if l.w.State.Seq() != 15 {
		l.t.Fatalf("scenario ends at %d, want 15", l.w.State.Seq())
	}
}

// export writes the journal from..to to a file and returns its lines.
func (l *ledger) export(from, to uint64) [][]byte {
	l.t.Helper()
	var buf bytes.Buffer
	if _, err := audit.Export(context.Background(), l.source(), from, to, &buf); err != nil {
		l.t.Fatalf("export: %v", err)
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

// run audits src and fails the test on a read error.
func run(t testing.TB, src audit.Source, opts audit.Options) *audit.Result {
	t.Helper()
	res, err := audit.Run(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	return res
}

func mustOK(t testing.TB, rep *audit.Report) {
	t.Helper()
	if !rep.OK {
		var b bytes.Buffer
		_ = rep.WriteText(&b)
		t.Fatalf("audit failed:\n%s", b.String())
	}
}
