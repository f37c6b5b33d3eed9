package commands_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
)

// memJournal is a journal held in memory, to measure the rebuild without
// NATS I/O. Integration tests use the real JetStream journal.
type memJournal struct{ records []domain.Record }

func (m *memJournal) Append(_ context.Context, records []domain.Record, after uint64) (uint64, error) {
	if after != uint64(len(m.records)) {
		return 0, commands.ErrFenced
	}
	for _, r := range records {
		r.Position = uint64(len(m.records)) + 1
		m.records = append(m.records, r)
	}
	return uint64(len(m.records)), nil
}

func (m *memJournal) Replay(ctx context.Context, fn func(domain.Record) error) (uint64, error) {
	return m.ReplayFrom(ctx, 1, fn)
}

func (m *memJournal) ReplayFrom(_ context.Context, from uint64, fn func(domain.Record) error) (uint64, error) {
	if from == 0 {
		from = 1
	}
	for i := from - 1; i < uint64(len(m.records)); i++ {
		if err := fn(m.records[i]); err != nil {
			return 0, err
		}
	}
	return uint64(len(m.records)), nil
}

// benchEvents is the size of the rebuild benchmarks' journal, 200,000
// events unless LEDGER_BENCH_EVENTS says otherwise.
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("LEDGER_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

var (
	benchOnce    sync.Once
	benchRecords []domain.Record
	benchCount   uint64
)

// benchJournal returns the records of a journal of benchEvents() events,
// nearly all of them TransferPosted between 1,000 accounts with 36-character
// ids, in records of 1,000 events as the processor writes them.
func benchJournal(tb testing.TB) ([]domain.Record, uint64) {
	benchOnce.Do(func() {
		const accounts = 1_000
		st := domain.NewState()
		var events []*domain.Event
		ref := domain.CommandRef{}
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		decide := func(c domain.Command) {
			ref.Seq++
			c.Ref = ref
			now = now.Add(time.Microsecond + 7*time.Nanosecond)
			d := st.Decide(c, now)
			if d.Event == nil {
				panic(fmt.Sprintf("bench journal: %+v", d))
			}
			events = append(events, d.Event)
		}
		decide(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
		for i := range accounts {
			id := fmt.Sprintf("acc-%08d", i)
			decide(domain.Command{Account: &domain.Account{ID: id, Asset: "USD"}})
			decide(domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: domain.World, To: id, Amount: "1000000.00"}})
		}
		for i := 0; len(events) < benchEvents(); i++ {
			decide(domain.Command{Transfer: &domain.Transfer{
				ID:     fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919),
				From:   fmt.Sprintf("acc-%08d", i%accounts),
				To:     fmt.Sprintf("acc-%08d", (i*31+1)%accounts),
				Amount: fmt.Sprintf("%d.%02d", i%100+1, i%97),
			}})
		}
		recs, _, err := commands.EncodeRecords(events, domain.Hash{}, 1_000, 1<<20)
		if err != nil {
			panic(err)
		}
		for i := range recs {
			recs[i].Position = uint64(i) + 1
		}
		benchRecords, benchCount = recs, uint64(len(events))
	})
	return benchRecords, benchCount
}

// BenchmarkRebuild measures the in-memory part of a rebuild: verifying the
// hash chain, decoding and applying pre-encoded records, without NATS.
//
// Besides events/s it reports the CPU time per event (both stages, all
// goroutines): on a shared machine, wall time says more about the
// neighbours than about the code.
func BenchmarkRebuild(b *testing.B) {
	recs, n := benchJournal(b)
	j := &memJournal{records: recs}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		st, _, _, err := commands.Rebuild(context.Background(), j)
		if err != nil || st.Seq() != n {
			b.Fatalf("rebuild: %v at %d", err, st.Seq())
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(n)/float64(b.N), "cpu-ns/event")
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRebuildJetStream measures commands.Rebuild end to end, reading
// the journal from an embedded JetStream server in the same process.
func BenchmarkRebuildJetStream(b *testing.B) {
	recs, n := benchJournal(b)
	srv := natstest.Start(b, b.TempDir())
	j := infra.NewJournal(srv.JS, srv.Names)
	ctx := context.Background()
	for i := 0; i < len(recs); i += 50 {
		if _, err := j.Append(ctx, recs[i:min(i+50, len(recs))], uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		st, _, _, err := commands.Rebuild(ctx, j)
		if err != nil || st.Seq() != n {
			b.Fatalf("rebuild: %v", err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
