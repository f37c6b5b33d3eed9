package readmodelbench

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
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
// transfers before 100k and before -transfers. Events are decided outside
// the measurement. Run it once: -benchtime 1x.
func BenchmarkPerEvent(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(*testing.B) store
	}{{"sqlite", openSQLite}, {"pebble", openPebble}} {
		b.Run(c.name, func(b *testing.B) {
			points := []int{100_000, *transfersFlag}
			if *transfersFlag <= 100_000 {
				points = points[1:]
			}
			got := run(b, c.open(b), *transfersFlag, *windowFlag, points)
			for i, p := range points {
				b.ReportMetric(got[i], fmt.Sprintf("us/event@%dk", p/1000))
			}
		})
	}
}

// run applies n transfers to s and returns the microseconds per event of
// the window transfers before each point.
func run(b *testing.B, s store, n, window int, points []int) []float64 {
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
	apply(decide([]domain.Command{{DefineAsset: &domain.Asset{Code: "USD", Scale: 2}}}))
	var opens, mints []domain.Command
	for i := range accounts {
		id := fmt.Sprintf("acc-%04d", i)
		opens = append(opens, domain.Command{OpenAccount: &domain.Account{ID: id, Asset: "USD"}})
		mints = append(mints, domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: "world", To: id, Amount: "1000000"}})
	}
	apply(decide(opens))
	apply(decide(mints))

	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]float64, len(points))
	var spent time.Duration
	b.ResetTimer()
	for done := 0; done < n; done += recordEvents {
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
		d := apply(decide(cmds))
		spent += d
		for i, p := range points {
			if end := done + recordEvents; end > p-window && end <= p {
				out[i] += float64(d.Microseconds()) / float64(window)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/spent.Seconds(), "events/s")
	return out
}
