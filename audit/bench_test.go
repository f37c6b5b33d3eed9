package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/internal/cputime"
)

// benchEvents is the size of the benchmarks' journal: 1,000 accounts and
// transfers between them with references, as a busy ledger writes them.
// LEDGER_BENCH_EVENTS changes it (docs/BENCHMARKS.md measures the replay
// at 1,000,000).
var benchEvents = benchEventsFromEnv(200_000)

func benchEventsFromEnv(def uint64) uint64 {
	n, err := strconv.ParseUint(os.Getenv("LEDGER_BENCH_EVENTS"), 10, 64)
	if err != nil || n == 0 {
		return def
	}
	return n
}

var (
	benchOnce    sync.Once
	benchJournal []byte // JSON Lines, as an export holds them
	benchLines   [][]byte
)

// benchData decides and encodes the benchmark journal once.
func benchData(b *testing.B) ([]byte, [][]byte) {
	b.Helper()
	benchOnce.Do(func() {
		const accounts = 1_000
		benchJournal = benchJournalOf(accounts, func(i int) string { return fmt.Sprintf("acc-%04d", i) },
			func(i int) (int, int) { return i % accounts, (i*7 + 1) % accounts })
		benchLines = splitLines(benchJournal)
		// Deciding the fixture leaves garbage behind: collect it now, not
		// during the first measurement.
		runtime.GC()
	})
	return benchJournal, benchLines
}

// benchJournalOf decides and encodes a benchmark journal of benchEvents
// events: one asset, accounts opened (id(i) the i-th's id) and minted,
// then transfers with references, the i-th between the accounts pick(i)
// numbers.
func benchJournalOf(accounts int, id func(int) string, pick func(i int) (from, to int)) []byte {
	j := decidedJournal{st: domain.NewState(), at: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: time.Microsecond}
	add := func(c domain.Command) {
		if err := j.add(c); err != nil {
			panic("bench fixture: " + err.Error())
		}
	}
	add(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	for i := range accounts {
		add(domain.Command{Account: &domain.Account{ID: id(i), Asset: "USD"}})
		add(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("mint-%d", i), From: domain.World, To: id(i), Amount: "1000000"}})
	}
	for i := 0; j.seq < benchEvents; i++ {
		from, to := pick(i)
		add(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("t-%08d", i), From: id(from), To: id(to),
			Amount: fmt.Sprintf("%d.%02d", 1+i%50, i%100), Reference: "invoice " + fmt.Sprint(i)}})
	}
	return j.data
}

// decidedJournal decides commands one after another, each numbered as the
// next command and stamped step after the one before (the first at at +
// step), and appends their events to data as a journal's chained lines.
type decidedJournal struct {
	st   *domain.State
	at   time.Time
	step time.Duration
	data []byte
	prev domain.Hash
	seq  uint64 // the last command's number, and its event's sequence
}

// add decides c and appends its event; it fails when c is not decided
// into one.
func (j *decidedJournal) add(c domain.Command) error {
	j.seq++
	c.Ref = domain.CommandRef{Seq: j.seq}
	d := j.st.Decide(c, j.at.Add(time.Duration(j.seq)*j.step))
	if d.Event == nil {
		return fmt.Errorf("command %d decided into no event: %+v", j.seq, d)
	}
	var err error
	j.data, j.prev, err = domain.AppendEvent(j.data, d.Event, j.prev)
	return err
}

// BenchmarkAudit is the whole in-memory audit: lines verified and decoded
// on every core, then the in-order checks and the recomputed books.
func BenchmarkAudit(b *testing.B) {
	data, lines := benchData(b)
	b.SetBytes(int64(len(data)) / int64(len(lines)))
	cpu0 := cputime.Process()
	b.ResetTimer()
	events := 0
	for events < b.N {
		src := &FileSource{Path: "-", Stdin: bytes.NewReader(data)}
		res, err := Run(context.Background(), src, Options{SizeHint: uint64(len(lines))})
		if err != nil || !res.Report.OK {
			b.Fatalf("audit: %v %+v", err, res.Report.Findings)
		}
		events += len(lines)
	}
	b.StopTimer()
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(events), "cpu-ns/event")
}

// BenchmarkAuditFile is `ledger audit --file`: the benchmark journal
// written to a file and audited from there, as the command does (blocks
// read from the file, the posted-id set sized from the file's size,
// GOMAXPROCS workers). It reports events/s and CPU time per event; only
// docs/BENCHMARKS.md reads them (no test asserts a speed). The export
// measured there is a real one: LEDGER_BENCH_EVENTS sets this journal's
// size.
func BenchmarkAuditFile(b *testing.B) {
	data, lines := benchData(b)
	path := filepath.Join(b.TempDir(), "journal.jsonl")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)) / int64(len(lines)))
	cpu0 := cputime.Process()
	b.ResetTimer()
	events := 0
	for events < b.N {
		res, err := Run(context.Background(), &FileSource{Path: path}, Options{})
		if err != nil || !res.Report.OK || res.Report.Events != uint64(len(lines)) {
			b.Fatalf("audit: %v %+v", err, res.Report)
		}
		events += len(lines)
	}
	b.StopTimer()
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(events), "cpu-ns/event")
}

// BenchmarkCheckLine is the per-line work alone, on one core: the line
// verified and decoded in one pass (domain.Line), and the schema checks,
// a posting the posting reader takes left without its event (a compact
// record), as in a run without a read model.
func BenchmarkCheckLine(b *testing.B) {
	_, lines := benchData(b)
	prevs := make([]domain.Hash, len(lines))
	for i := 1; i < len(lines); i++ {
		prevs[i] = stored(lines[i-1])
	}
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	b.ResetTimer()
	var r lineResult
	c := newChecker(&seeds, true)
	for i := 0; i < b.N; i++ {
		j := i % len(lines)
		c.room.size(1)
		checkLine(c, lines[j], prevs[j], &r, nil)
		if r.link != linkOK || schemaErrOf(&r) != nil {
			b.Fatalf("line %d: %v %v", j, r.link, schemaErrOf(&r))
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCheckBatch is a worker's whole per-line work on one core:
// batch.check over chunks of 1,000 lines (postings as compact records,
// as in a run without a read model), with the lines hashed two at a
// time (pairs-cpu-ns/line, the audit's way where the CPU has the SHA
// extensions) and one at a time as they are checked (single-cpu-ns/line,
// the way elsewhere). The two take turns chunk by chunk, each going first
// every other chunk, so that both see the same load on a shared machine
// and the same caches, and each is timed by the CPU time of the
// benchmark's own thread; an op is a line of each.
func BenchmarkCheckBatch(b *testing.B) {
	_, lines := benchData(b)
	const chunk = 1000
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	free := make(chan room, 1)
	saved := pairHashing
	defer func() { pairHashing = saved }()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var spent [2]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i += chunk {
		j := i % (len(lines) - chunk)
		for turn := range spent {
			// The first to check a chunk brings its lines into the
			// cache for the second: each goes first every other chunk.
			mode := (turn + i/chunk) % 2
			pairHashing = mode == 0
			t0 := cputime.Thread()
			bt := &batch{Chunk: Chunk{Lines: lines[j : j+chunk]}, seeds: &seeds, compact: true, done: make(chan struct{})}
			if j > 0 {
				bt.prev = stored(lines[j-1])
			}
			bt.check(free)
			spent[mode] += cputime.Thread() - t0
			for k := range bt.items {
				if r := &bt.items[k]; r.link != linkOK || schemaErrOf(r) != nil {
					b.Fatalf("line %d: %v %v", j+k, r.link, schemaErrOf(r))
				}
			}
			free <- bt.room
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(b.N), "pairs-cpu-ns/line")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(b.N), "single-cpu-ns/line")
}

// BenchmarkBooks is the in-order part alone: the sequence and chain
// bookkeeping and the recomputed books, over lines checked beforehand
// (postings as compact records, as in a run without a read model).
func BenchmarkBooks(b *testing.B) {
	_, lines := benchData(b)
	benchBooks(b, lines)
}

// benchBooks is the in-order part alone over lines, checked beforehand
// as a run without a read model checks them (postings as compact
// records), consumed again for every pass. It reports events/s and the
// process's CPU time per event, less sensitive than ns/op to other
// processes taking the core.
func benchBooks(b *testing.B, lines [][]byte) {
	var rm room
	rm.size(len(lines))
	e := newEngine(context.Background(), Options{MaxFindings: 10}, "bench")
	cv := makeChecker(&e.books.idSeeds, true, &rm)
	c := &cv
	var prev domain.Hash
	for i, l := range lines {
		rm.hashes[i] = checkLine(c, l, prev, &rm.items[i], nil)
		prev = rm.hashes[i]
	}
	seeds := e.books.idSeeds
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i += len(lines) {
		e := newEngine(context.Background(), Options{MaxFindings: 10, SizeHint: uint64(len(lines))}, "bench")
		e.books.idSeeds = seeds
		bt := &batch{Chunk: Chunk{Lines: lines}, room: rm}
		if err := e.consume(bt); err != nil || e.failed() > 0 {
			b.Fatalf("consume: %v %+v", err, e.rep.Findings)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/event")
}

// BenchmarkDomainVerifyLine and BenchmarkDomainDecodeEvent measure the
// domain's two per-line functions alone, on one core.
func BenchmarkDomainVerifyLine(b *testing.B) {
	_, lines := benchData(b)
	prevs := make([]domain.Hash, len(lines))
	for i := 1; i < len(lines); i++ {
		prevs[i] = stored(lines[i-1])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(lines)
		if _, err := domain.VerifyLine(lines[j], prevs[j]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkDomainDecodeEvent(b *testing.B) {
	_, lines := benchData(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := domain.DecodeEvent(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// benchStream appends the benchmark journal to a test JetStream in records
// of up to 1,000 events, as the processor packs them.
func benchStream(b *testing.B) *JetStreamSource {
	b.Helper()
	_, lines := benchData(b)
	srv := natstest.Start(b, b.TempDir())
	// A journal alone, as copied: the benchmark's events answer no
	// command of the (empty) commands stream, whose check would fail.
	if err := srv.JS.DeleteStream(context.Background(), srv.Names.CommandsStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		b.Fatal(err)
	}
	j := infra.NewJournal(srv.JS, srv.Names)
	var pos uint64
	for i := 0; i < len(lines); i += 1_000 {
		end := min(i+1_000, len(lines))
		var rec domain.Record
		for k, line := range lines[i:end] {
			ev, err := domain.DecodeEvent(line)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				rec.FirstSeq = ev.Seq
			} else if ev.Type != rec.Type {
				// One type per record: start a new one.
				var err error
				if pos, err = j.Append(context.Background(), []domain.Record{rec}, pos); err != nil {
					b.Fatal(err)
				}
				rec = domain.Record{FirstSeq: ev.Seq}
			}
			rec.Type, rec.LastSeq = ev.Type, ev.Seq
			rec.Data = append(append(rec.Data, line...), '\n')
		}
		var err error
		if pos, err = j.Append(context.Background(), []domain.Record{rec}, pos); err != nil {
			b.Fatal(err)
		}
	}
	return &JetStreamSource{JS: srv.JS, Names: srv.Names}
}

// BenchmarkAuditJetStream audits the benchmark journal read from an
// embedded JetStream: the audit of a data directory.
func BenchmarkAuditJetStream(b *testing.B) {
	src := benchStream(b)
	_, lines := benchData(b)
	cpu0 := cputime.Process()
	b.ResetTimer()
	events := 0
	for events < b.N {
		res, err := Run(context.Background(), src, Options{SizeHint: uint64(len(lines))})
		if err != nil || !res.Report.OK {
			b.Fatalf("audit: %v", err)
		}
		events += len(lines)
	}
	b.StopTimer()
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(events), "cpu-ns/event")
}

// BenchmarkReplay rebuilds a read model of the benchmark journal from an
// embedded JetStream into Pebble, as ledger replay does.
func BenchmarkReplay(b *testing.B) {
	src := benchStream(b)
	_, lines := benchData(b)
	out := filepath.Join(b.TempDir(), "readmodel")
	runtime.GC()
	cpu0 := cputime.Process()
	b.ResetTimer()
	events := 0
	for events < b.N {
		st, err := Replay(context.Background(), src, ReplayOptions{Out: out})
		if err != nil || st.Applied != uint64(len(lines)) {
			b.Fatalf("replay: %v %+v", err, st)
		}
		events += len(lines)
	}
	b.StopTimer()
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(events), "cpu-ns/event")
}
