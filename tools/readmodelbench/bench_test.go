package readmodelbench

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
	"github.com/nats-ledger/ledger/tools/readmodelbench/sqlitestore"
)

// Sizes of the comparison. The default is the 1M transfers; the
// first window is measured at 100k.
var (
	transfersFlag = flag.Int("transfers", 1_000_000, "transfers applied to each store")
	windowFlag    = flag.Int("window", 20_000, "transfers measured at each point (the last of them before it)")
	pointsFlag    = flag.String("points", "", "comma-separated points to measure at (default 100000 and -transfers)")
)

const (
	accounts     = 1_000 // as projections' BenchmarkApplyRecord
	recordEvents = 1_000 // the processor's largest record
)

// store is what the benchmark needs of either read model.
type store struct {
	apply func(ctx context.Context, position uint64, events []*domain.Event) error
	close func() error
}

func openSQLite(b *testing.B) store {
	s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "readmodel.db"))
	if err != nil {
		b.Fatal(err)
	}
	return store{close: s.Close, apply: func(ctx context.Context, pos uint64, evs []*domain.Event) error {
		return s.ApplyRecords(ctx, []sqlitestore.Record{{Position: pos, Events: evs}})
	}}
}

func openPebble(b *testing.B) store {
	s, err := projections.Open(filepath.Join(b.TempDir(), "readmodel"))
	if err != nil {
		b.Fatal(err)
	}
	return store{close: s.Close, apply: func(ctx context.Context, pos uint64, evs []*domain.Event) error {
		return s.ApplyRecords(ctx, []projections.Record{{Position: pos, Events: evs}})
	}}
}

// BenchmarkPerEvent applies the same journal (an asset, 1,000 funded
// accounts, then -transfers transfers between them in records of 1,000,
// one second apart) to the SQLite read model of schema 3 and to the
// Pebble store, one record per call as BenchmarkApplyRecord does, and
// reports the wall time per event of ApplyRecords over the -window
// transfers before 100k and before -transfers, and the process's CPU time
// per event over the same calls (steadier on a busy machine; it includes
// the store's background work). Events are decided outside the
// measurement. Run it once: -benchtime 1x.
func BenchmarkPerEvent(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(*testing.B) store
	}{{"sqlite", openSQLite}, {"pebble", openPebble}} {
		b.Run(c.name, func(b *testing.B) {
			points := measurePoints(b)
			got := run(b, c.open(b), *transfersFlag, *windowFlag, points)
			for i, p := range points {
				b.ReportMetric(got[i].wallUS, fmt.Sprintf("us/event@%dk", p/1000))
				b.ReportMetric(got[i].cpuUS, fmt.Sprintf("cpu-us/event@%dk", p/1000))
			}
		})
	}
}

// measurePoints is -points parsed, or 100k and -transfers. Each point must
// be a multiple of the record size, at least a window in, and at most
// -transfers.
func measurePoints(b *testing.B) []int {
	if *pointsFlag == "" {
		if *transfersFlag <= 100_000 {
			return []int{*transfersFlag}
		}
		return []int{100_000, *transfersFlag}
	}
	var points []int
	for _, f := range strings.Split(*pointsFlag, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p%recordEvents != 0 || p < *windowFlag || p > *transfersFlag ||
			(len(points) > 0 && p-*windowFlag < points[len(points)-1]) {
			b.Fatalf("-points: %q is not a multiple of %d between -window and -transfers, after the previous window", f, recordEvents)
		}
		points = append(points, p)
	}
	return points
}

// measure is the cost per event over a window.
type measure struct{ wallUS, cpuUS float64 }

// run applies n transfers to s and returns the cost per event of the
// window transfers before each point.
func run(b *testing.B, s store, n, window int, points []int) []measure {
	defer s.close()
	ctx := context.Background()
	st := domain.NewState()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var pos, cmd uint64
	decide := func(cmds []domain.Command) []*domain.Event {
		cmd++
		events := make([]*domain.Event, 0, len(cmds))
		for i, c := range cmds {
			c.Ref = domain.CommandRef{Seq: cmd, Item: i}
			d := st.Decide(c, now)
			if d.Event == nil {
				b.Fatalf("decide %+v: %+v", c, d)
			}
			events = append(events, d.Event)
		}
		return events
	}
	apply := func(evs []*domain.Event) time.Duration {
		pos++
		t0 := time.Now()
		if err := s.apply(ctx, pos, evs); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	apply(decide([]domain.Command{{Asset: &domain.Asset{Code: "USD", Scale: 2}}}))
	var opens, mints []domain.Command
	for i := range accounts {
		id := fmt.Sprintf("acc-%04d", i)
		opens = append(opens, domain.Command{Account: &domain.Account{ID: id, Asset: "USD"}})
		mints = append(mints, domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: "world", To: id, Amount: "1000000"}})
	}
	apply(decide(opens))
	apply(decide(mints))

	rng := rand.New(rand.NewPCG(1, 2))
	transfers := func(done int) []domain.Command {
		now = now.Add(time.Second)
		cmds := make([]domain.Command, recordEvents)
		for i := range cmds {
			from, to := rng.IntN(accounts), rng.IntN(accounts-1)
			if to >= from {
				to++
			}
			cmds[i] = domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("t-%d", done+i),
				From: fmt.Sprintf("acc-%04d", from), To: fmt.Sprintf("acc-%04d", to), Amount: "1.25", Reference: "benchmark"}}
		}
		return cmds
	}
	out := make([]measure, len(points))
	var spent time.Duration
	b.ResetTimer()
	for done := 0; done < n; {
		p := slices.IndexFunc(points, func(p int) bool { return done == p-window })
		if p < 0 {
			spent += apply(decide(transfers(done)))
			done += recordEvents
			continue
		}
		// The window: its records decided first, then applied back to
		// back, with the process's CPU time (the store's background
		// flushes and compactions included) measured around them.
		var recs [][]*domain.Event
		for ; done < points[p]; done += recordEvents {
			recs = append(recs, decide(transfers(done)))
		}
		cpu0, wall := cpuTime(), time.Duration(0)
		for _, r := range recs {
			wall += apply(r)
		}
		spent += wall
		out[p] = measure{wallUS: float64(wall.Microseconds()) / float64(window),
			cpuUS: float64((cpuTime() - cpu0).Microseconds()) / float64(window)}
		// Each point as it is reached: a long run killed early keeps them.
		b.Logf("at %d transfers: %.2f wall µs/event, %.2f CPU µs/event (%s UTC)", points[p], out[p].wallUS, out[p].cpuUS, time.Now().UTC().Format(time.TimeOnly))
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/spent.Seconds(), "events/s")
	return out
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
