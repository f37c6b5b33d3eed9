package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// booksJournal is a journal for BenchmarkBooksAccounts: one asset,
// accounts opened and minted, then transfers between accounts drawn at
// random (a fixed seed), as the bench ledger posts them, so that the
// books of consecutive postings lie anywhere in memory.
type booksJournal struct {
	once  sync.Once
	lines [][]byte
}

var booksJournals = map[int]*booksJournal{1_000: {}, 10_000: {}}

func booksJournalOf(b *testing.B, accounts int) [][]byte {
	b.Helper()
	j := booksJournals[accounts]
	j.once.Do(func() {
		st := domain.NewState()
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var out []byte
		var prev domain.Hash
		n := uint64(0)
		add := func(c domain.Command) {
			n++
			c.Ref = domain.CommandRef{Seq: n}
			d := st.Decide(c, now.Add(time.Duration(n)*time.Microsecond))
			if d.Event == nil {
				panic(fmt.Sprintf("books bench fixture: %+v", d))
			}
			var err error
			if out, prev, err = domain.AppendEvent(out, d.Event, prev); err != nil {
				panic(err)
			}
		}
		id := func(i int) string { return fmt.Sprintf("acc-%05d", i) }
		add(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
		for i := range accounts {
			add(domain.Command{Account: &domain.Account{ID: id(i), Asset: "USD"}})
			add(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("mint-%d", i), From: domain.World, To: id(i), Amount: "1000000"}})
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; n < benchEvents; i++ {
			from := rng.IntN(accounts)
			to := (from + 1 + rng.IntN(accounts-1)) % accounts
			add(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("t-%08d", i), From: id(from), To: id(to),
				Amount: fmt.Sprintf("%d.%02d", 1+i%50, i%100), Reference: "invoice " + fmt.Sprint(i)}})
		}
		j.lines = splitLines(out)
		runtime.GC()
	})
	return j.lines
}

// BenchmarkBooksAccounts is BenchmarkBooks over accounts drawn at random
// from 1,000 (in the caches) or 10,000 (as the export of docs/BENCHMARKS.md
// has: their books exceed the core's L2): the in-order part alone, its
// lines checked beforehand, postings as compact records. cpu-ns/event is
// the process's CPU time, less sensitive than ns/op to other processes
// taking the core.
func BenchmarkBooksAccounts(b *testing.B) {
	for _, accounts := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			lines := booksJournalOf(b, accounts)
			var rm room
			rm.size(len(lines))
			e := newEngine(context.Background(), Options{MaxFindings: 10}, "bench")
			c := &checker{seeds: &e.books.idSeeds, compact: true, room: &rm}
			var prev domain.Hash
			for i, l := range lines {
				rm.hashes[i] = checkLine(c, l, prev, &rm.items[i], nil)
				prev = rm.hashes[i]
			}
			seeds := e.books.idSeeds
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i += len(lines) {
				e := newEngine(context.Background(), Options{MaxFindings: 10, SizeHint: uint64(len(lines))}, "bench")
				e.books.idSeeds = seeds
				bt := &batch{Chunk: Chunk{Lines: lines}, room: rm}
				if err := e.consume(bt); err != nil || e.failed() > 0 {
					b.Fatalf("consume: %v %+v", err, e.rep.Findings)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/event")
		})
	}
}
