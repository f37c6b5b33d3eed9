package subscriber_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
	"github.com/nats-ledger/ledger/subscriber"
)

// TestRunStopsAtACorruptRecord appends a record the subscriber cannot
// read after a good journal: Run delivers every event before it, then
// returns ErrCorrupt rather than skip it or wait.
func TestRunStopsAtACorruptRecord(t *testing.T) {
	line := `{"seq":27,"type":"TransferPosted"}` + "\n"
	for _, tc := range []struct {
		name                string
		first, last, format string
		data                string
	}{
		{"sequence header not a number", "x", "27", journalio.RecordFormat, line},
		{"sequences backwards", "28", "27", journalio.RecordFormat, line},
		{"unknown format", "27", "27", "jsonl-v0", line},
		{"fewer lines than sequences", "27", "28", journalio.RecordFormat, line},
		{"no final newline", "27", "27", journalio.RecordFormat, line[:len(line)-1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJournal(t)
			j.SeedPayments()
			bad := nats.NewMsg(j.Names.EventSubject(string(domain.EventTransferPosted)))
			bad.Data = []byte(tc.data)
			bad.Header.Set(journalio.HeaderFirstSeq, tc.first)
			bad.Header.Set(journalio.HeaderLastSeq, tc.last)
			bad.Header.Set(journalio.HeaderFormat, tc.format)
			if _, err := j.JS.PublishMsg(context.Background(), bad); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			r := &received{}
			err := j.newSubscriber(subscriber.Config{}).Run(ctx, func(_ context.Context, ev subscriber.Event) error {
				r.add(ev)
				return nil
			})
			if !errors.Is(err, subscriber.ErrCorrupt) {
				t.Fatalf("Run returned %v, want ErrCorrupt", err)
			}
			if got := r.seqs(); !slices.Equal(got, seqRange(1, 26)) {
				t.Errorf("delivered %v, want 1..26", got)
			}
		})
	}
}
