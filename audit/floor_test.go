package audit

import (
	"hash/maphash"
	"runtime"
	"sync"
	"testing"

	"github.com/nats-ledger/ledger/audit/internal/sha256x"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/cputime"
)

// BenchmarkAuditFloor measures what a line costs in the workers' stages
// alone, each on every core at once over the benchmark journal, to say
// how fast an audit could be if everything after a stage were free:
//
//   - hash: each line's SHA-256, two lines at a time (sha256x), the
//     stored hashes read for the chain, nothing else;
//   - reader: the hash and the one pass that checks and reads a posting
//     (domain.Line.PrepareHashed and Posting), what every posting needs;
//   - worker: a worker's whole per-line work (checkLines) in a run
//     without a read model: the above, the record and the keys the
//     in-order part reads.
//
// An op is a pass over the journal. It reports CPU time per line (cpu-ns/line, the process's, all cores)
// and lines a second of wall time; docs/BENCHMARKS.md reads them (no
// test asserts a speed).
func BenchmarkAuditFloor(b *testing.B) {
	_, lines := benchData(b)
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	stages := []struct {
		name string
		run  func(lines [][]byte, prev domain.Hash)
	}{
		{"hash", func(lines [][]byte, prev domain.Hash) { floorHash(lines, prev, false) }},
		{"reader", func(lines [][]byte, prev domain.Hash) { floorHash(lines, prev, true) }},
		{"worker", nil}, // checkLines, below: a checker per worker
	}
	for _, st := range stages {
		b.Run(st.name, func(b *testing.B) {
			workers := runtime.GOMAXPROCS(0)
			const chunk = 1000
			// A worker's checker, as the pipeline makes one for a run
			// without a read model: postings take no event.
			checkers := make([]*checker, workers)
			for w := range checkers {
				c := makeChecker(&seeds, true, &room{})
				checkers[w] = &c
			}
			cpu0 := cputime.Process()
			b.ResetTimer()
			done := 0
			for range b.N { // an op is a pass over the journal
				// Chunks of lines dealt out to the workers in turn, as the
				// pipeline deals them.
				var wg sync.WaitGroup
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := w * chunk; i+chunk <= len(lines); i += workers * chunk {
							var prev domain.Hash
							if i > 0 {
								prev = stored(lines[i-1])
							}
							if st.run != nil {
								st.run(lines[i:i+chunk], prev)
								continue
							}
							c := checkers[w]
							c.room.size(chunk)
							checkLines(c, lines[i:i+chunk], prev, c.room.items, c.room.hashes)
						}
					}()
				}
				wg.Wait()
				done += len(lines) / chunk * chunk
			}
			b.StopTimer()
			b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(done), "cpu-ns/line")
		})
	}
}

// floorHash hashes lines two at a time as checkLines does, each after
// the stored hash of the line before it, and with reader also reads each
// with the posting reader (or the general one).
func floorHash(lines [][]byte, prev domain.Hash, reader bool) {
	var la, lb domain.Line
	var h sha256x.Hasher
	var a, b lineSum
	for i := 0; i+1 < len(lines); i += 2 {
		a.seal.Set(lines[i])
		b.seal.Set(lines[i+1])
		mid, _ := a.seal.Stored()
		if !pairSums(&h, &a, &prev, &b, &mid) {
			panic("floor: a line without a hash suffix")
		}
		if reader {
			if _, err := la.PrepareSealed(&a.seal, prev, a.digest); err != nil {
				panic(err)
			}
			if _, err := lb.PrepareSealed(&b.seal, mid, b.digest); err != nil {
				panic(err)
			}
			la.Posting()
			lb.Posting()
		} else if a.digest != mid || b.digest != stored(lines[i+1]) {
			panic("floor: a hash does not match")
		}
		prev = b.digest
	}
}
