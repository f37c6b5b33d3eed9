package audit

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
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
		rng := rand.New(rand.NewPCG(1, 2))
		j.lines = splitLines(benchJournalOf(accounts, func(i int) string { return fmt.Sprintf("acc-%05d", i) },
			func(int) (int, int) {
				from := rng.IntN(accounts)
				return from, (from + 1 + rng.IntN(accounts-1)) % accounts
			}))
		runtime.GC()
	})
	return j.lines
}

// BenchmarkBooksAccounts is BenchmarkBooks over accounts drawn at random
// from 1,000 (in the caches) or 10,000 (as the export of docs/BENCHMARKS.md
// has: their books exceed the core's L2): the in-order part alone, its
// lines checked beforehand, postings as compact records (benchBooks).
func BenchmarkBooksAccounts(b *testing.B) {
	for _, accounts := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			benchBooks(b, booksJournalOf(b, accounts))
		})
	}
}
