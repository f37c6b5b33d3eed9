package commands_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
)

// The posted-id archive's figures (docs/BENCHMARKS.md, "Posted ids on
// disk"): the processor's heap after posting LEDGER_BENCH_IDS transfers
// (1,000,000 unless set) with every id in memory and with a hot set of
// LEDGER_BENCH_HOT (1,000,000) in front of the Pebble archive, the
// eviction pauses, and the cost of a decision whose id is looked up in
// the archive. The benchmark drives domain.State and the archive as the
// processor does between and before batches (commands/archive.go).

func benchEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// archivedState is a state with its archive, driven like the processor.
type archivedState struct {
	st      *domain.State
	arch    *infra.IDArchive // nil: every id in memory
	hot     int
	keys    [][16]byte
	pauses  []time.Duration // planning and forgetting: the processor's pause
	writes  []time.Duration // the archive's synced write, on its own goroutine in the processor
	evicted int
}

func (a *archivedState) prefetch(b testing.TB, cmds []domain.Command) {
	a.keys = a.st.Unchecked(cmds, a.keys[:0])
	var found []domain.PostedID
	var absent [][16]byte
	ids := make([]domain.PostedID, len(a.keys))
	if err := a.arch.Lookup(a.keys, ids); err != nil {
		b.Fatal(err)
	}
	for i, id := range ids {
		if id.Seq != 0 {
			found = append(found, id)
		} else {
			absent = append(absent, a.keys[i])
		}
	}
	a.st.Prefetched(found, absent)
}

func (a *archivedState) evict(b testing.TB) {
	if a.arch == nil {
		return
	}
	start := time.Now()
	plan, ok := a.st.PlanEviction(a.hot)
	if !ok {
		return
	}
	planned := time.Now()
	ids := plan.IDs() // on the write's goroutine in the processor
	if err := a.arch.Archive(ids, commandsMark(a.st, plan.Cut)); err != nil {
		b.Fatal(err)
	}
	written := time.Now()
	a.st.Evict(plan)
	a.pauses = append(a.pauses, planned.Sub(start)+time.Since(written))
	a.writes = append(a.writes, written.Sub(planned))
	a.evicted += len(ids)
}

// post decides n transfers of new ids from prefix, in messages of 1,000.
func (a *archivedState) post(b testing.TB, prefix string, n int) {
	cmds := make([]domain.Command, 0, 1000)
	seq := a.st.LastCommand().Seq
	for i := 0; i < n; {
		cmds = cmds[:0]
		for ; len(cmds) < cap(cmds) && i < n; i++ {
			seq++
			cmds = append(cmds, domain.Command{Ref: domain.CommandRef{Seq: seq},
				Transfer: &domain.Transfer{ID: prefix + strconv.Itoa(i), From: domain.World, To: "acc", Amount: "1"}})
		}
		a.prefetch(b, cmds)
		for _, c := range cmds {
			if d := a.st.Decide(c, time.Unix(0, 0)); d.Outcome != domain.Posted {
				b.Fatalf("%s: %v", c.Transfer.ID, d.Err)
			}
		}
		a.evict(b)
	}
}

func newArchivedState(b testing.TB, dir string, hot int) *archivedState {
	a := &archivedState{st: domain.NewState(), hot: hot}
	if dir != "" {
		var err error
		if a.arch, err = infra.OpenIDArchive(filepath.Join(dir, infra.IDArchiveDir)); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = a.arch.Close() })
	}
	for _, c := range []domain.Command{
		{Asset: &domain.Asset{Code: "USD", Scale: 0}},
		{Account: &domain.Account{ID: "acc", Asset: "USD"}},
	} {
		c.Ref = domain.CommandRef{Seq: a.st.LastCommand().Seq + 1}
		if d := a.st.Decide(c, time.Unix(0, 0)); d.Outcome != domain.Created {
			b.Fatal(d.Err)
		}
	}
	return a
}

func heapBytes() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// rssBytes is the process's resident memory, from /proc (0 elsewhere).
func rssBytes() uint64 {
	data, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkPostedIDsMemory posts LEDGER_BENCH_IDS transfers with every id
// in memory, then as many with a hot set in front of the archive, and
// reports the heap each state holds, the archive's size on disk and the
// eviction pauses. Run it with -benchtime 1x.
func BenchmarkPostedIDsMemory(b *testing.B) {
	n, hot := benchEnv("LEDGER_BENCH_IDS", 1_000_000), benchEnv("LEDGER_BENCH_HOT", 1_000_000)
	for _, archived := range []bool{false, true} {
		name := "all-in-memory"
		if archived {
			name = fmt.Sprintf("hot-%d", hot)
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				dir := ""
				if archived {
					dir = b.TempDir()
				}
				base := heapBytes()
				a := newArchivedState(b, dir, hot)
				start := time.Now()
				a.post(b, "id-", n)
				elapsed := time.Since(start)
				heap := heapBytes() - base
				b.ReportMetric(float64(heap)/float64(n), "heapB/id")
				b.ReportMetric(float64(heap)/(1<<20), "heapMiB")
				b.ReportMetric(float64(rssBytes())/(1<<20), "rssMiB")
				b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/transfer")
				b.ReportMetric(float64(a.st.HotIDs()), "hot-ids")
				if archived {
					b.ReportMetric(float64(dirBytes(b, dir))/float64(a.evicted), "diskB/archived-id")
					b.ReportMetric(float64(len(a.pauses)), "evictions")
					reportDurations(b, a.pauses, "pause")
					reportDurations(b, a.writes, "write")
				}
				runtime.KeepAlive(a)
			}
		})
	}
}

// BenchmarkDecideArchived measures a transfer decided with its id looked
// up first: all-hot (nothing ever archived: the lookup costs nothing),
// new (archived ids exist, so each new id is a miss in the archive,
// answered by its filters), and retry (each a retry of an archived id,
// found on disk, recalled and replayed). Evictions are left out (the
// memory benchmark times them): the hot set grows by the ids decided.
func BenchmarkDecideArchived(b *testing.B) {
	const archivedIDs, hot = 200_000, 10_000
	dir := b.TempDir()
	a := newArchivedState(b, dir, hot)
	a.post(b, "old-", archivedIDs)
	allHot := newArchivedState(b, "", 0)
	allHot.post(b, "old-", archivedIDs)
	run := func(b *testing.B, a *archivedState, id func(i int) string, want domain.Outcome) {
		cmds := make([]domain.Command, 1)
		seq := a.st.LastCommand().Seq
		b.ResetTimer()
		for i := range b.N {
			seq++
			cmds[0] = domain.Command{Ref: domain.CommandRef{Seq: seq}, Transfer: &domain.Transfer{ID: id(i), From: domain.World, To: "acc", Amount: "1"}}
			a.prefetch(b, cmds)
			if d := a.st.Decide(cmds[0], time.Unix(0, 0)); d.Outcome != want {
				b.Fatalf("%s: %v %v", cmds[0].Transfer.ID, d.Outcome, d.Err)
			}
		}
	}
	// Every run takes ids no run took before: a new id is new once, and
	// an archived one is recalled into memory by its first retry.
	next := 0
	fresh := func(int) string { next++; return fmt.Sprintf("new-%d", next) }
	b.Run("all-hot", func(b *testing.B) { run(b, allHot, fresh, domain.Posted) })
	b.Run("new", func(b *testing.B) { run(b, a, fresh, domain.Posted) })
	old := 0
	b.Run("retry", func(b *testing.B) {
		// The oldest ids, all archived, at most once each.
		if old+b.N > archivedIDs-2*hot {
			b.Skipf("%d retries: only %d archived ids left", b.N, archivedIDs-2*hot-old)
		}
		run(b, a, func(int) string { old++; return fmt.Sprintf("old-%d", old) }, domain.Replayed)
	})
}

func dirBytes(b testing.TB, dir string) int64 {
	var n int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// commandsMark is the archive mark of an eviction outside a processor:
// no journal, so the anchor is the state's sequence alone.
func commandsMark(st *domain.State, cut uint64) commands.ArchiveMark {
	return commands.ArchiveMark{Through: cut, Seq: st.Seq()}
}

// reportDurations reports the largest and the mean of ds in milliseconds.
func reportDurations(b *testing.B, ds []time.Duration, what string) {
	var worst, sum time.Duration
	for _, d := range ds {
		worst, sum = max(worst, d), sum+d
	}
	b.ReportMetric(float64(worst.Microseconds())/1e3, "max-"+what+"-ms")
	b.ReportMetric(float64(sum.Microseconds())/1e3/float64(max(1, len(ds))), "mean-"+what+"-ms")
}
