package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// BenchmarkApplyRecord measures ApplyRecord on records of 1,000
// TransferPosted events (the processor's largest record) between 1,000
// funded accounts. One op is one record; events are decided outside the
// timer.
func BenchmarkApplyRecord(b *testing.B) {
	const (
		accounts     = 1_000
		recordEvents = 1_000
	)
	ctx := context.Background()
	s, err := projections.Open(b.TempDir() + "/bench")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	st := domain.NewState()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var pos uint64
	var cmd uint64
	apply := func(cmds []domain.Command) {
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
		pos++
		if err := s.ApplyRecord(ctx, pos, events); err != nil {
			b.Fatal(err)
		}
	}
	apply([]domain.Command{{Asset: &domain.Asset{Code: "USD", Scale: 2}}})
	var opens, mints []domain.Command
	for i := range accounts {
		id := fmt.Sprintf("acc-%04d", i)
		opens = append(opens, domain.Command{Account: &domain.Account{ID: id, Asset: "USD"}})
		mints = append(mints, domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: "world", To: id, Amount: "1000000"}})
	}
	apply(opens)
	apply(mints)

	rng := rand.New(rand.NewPCG(1, 2))
	next := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		cmd++
		now = now.Add(time.Second)
		events := make([]*domain.Event, 0, recordEvents)
		for i := range recordEvents {
			from, to := rng.IntN(accounts), rng.IntN(accounts-1)
			if to >= from {
				to++
			}
			next++
			d := st.Decide(domain.Command{Ref: domain.CommandRef{Seq: cmd, Item: i}, Transfer: &domain.Transfer{
				ID: fmt.Sprintf("t-%d", next), From: fmt.Sprintf("acc-%04d", from), To: fmt.Sprintf("acc-%04d", to),
				Amount: "1.25", Reference: "benchmark"}}, now)
			if d.Outcome != domain.Posted {
				b.Fatalf("transfer %d: %+v", next, d)
			}
			events = append(events, d.Event)
		}
		pos++
		b.StartTimer()
		if err := s.ApplyRecord(ctx, pos, events); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*recordEvents)/b.Elapsed().Seconds(), "events/s")
}
