package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
)

// TestFindingsOutliveTheirBlocks audits an export of several blocks, twice
// at once, whose first block holds a wrong balance and a transfer id
// posted again: the blocks are reused for later chunks (and by the other
// audit) once consumed, and the findings must still say what the lines
// said.
func TestFindingsOutliveTheirBlocks(t *testing.T) {
	st := domain.NewState()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var events []*domain.Event
	decide := func(c domain.Command) {
		c.Ref = domain.CommandRef{Seq: uint64(len(events) + 1)}
		d := st.Decide(c, at)
		if d.Event == nil {
			t.Fatalf("fixture: %+v", d)
		}
		events = append(events, d.Event)
	}
	decide(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	const accounts = 50
	for i := range accounts {
		decide(domain.Command{Account: &domain.Account{ID: fmt.Sprintf("acc-%04d", i), Asset: "USD"}})
		decide(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("mint-%d", i), From: domain.World,
			To: fmt.Sprintf("acc-%04d", i), Amount: "1000"}})
	}
	for i := 0; len(events) < 15_000; i++ { // about 8 MiB: 8 blocks
		decide(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprintf("t-%08d", i), From: fmt.Sprintf("acc-%04d", i%accounts),
			To: fmt.Sprintf("acc-%04d", (i+1)%accounts), Amount: "1.00", Reference: fmt.Sprintf("invoice %d with some words", i)}})
	}
	// Event 200 states a wrong balance after its debit, and event 300
	// posts the id of event 250 again; the chain is computed over the
	// changed events, so only the books notice.
	bad, again, first := events[199], events[299], events[249]
	for _, ev := range []*domain.Event{bad, again, first} {
		if ev.Type != domain.EventTransferPosted {
			t.Fatalf("event %d is a %s", ev.Seq, ev.Type)
		}
	}
	stated, account := bad.Transfer.Entries[0].Balance, bad.Transfer.Entries[0].Account
	bad.Transfer.Entries[0].Balance = "123456.00"
	again.Transfer.ID = first.Transfer.ID
	var data []byte
	var prev domain.Hash
	for _, ev := range events {
		var err error
		if data, prev, err = domain.AppendEvent(data, ev, prev); err != nil {
			t.Fatal(err)
		}
	}
	if len(data) < 6<<20 {
		t.Fatalf("the export is %d bytes: too few blocks", len(data))
	}
	var wg sync.WaitGroup
	reports := make([]*audit.Report, 2)
	for i := range reports {
		wg.Go(func() {
			res, err := audit.Run(context.Background(), &audit.FileSource{Path: "-", Stdin: bytes.NewReader(data)}, audit.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			reports[i] = res.Report
		})
	}
	wg.Wait()
	for _, rep := range reports {
		if rep == nil {
			t.FailNow()
		}
		f, ok := rep.First(audit.CheckBalance)
		want := fmt.Sprintf("debit entry states the balance after as 123456.00, recomputed from the journal it is %s", stated)
		if rep.OK || !ok || f.Seq != 200 || f.Account != account || f.Asset != "USD" || f.Detail != want {
			t.Fatalf("finding %s, want balance_after at 200 for %s (USD): %q; all %v", f, account, want, rep.Findings)
		}
		f, ok = rep.First(audit.CheckUnique)
		want = fmt.Sprintf("transfer %s posted again: it was posted at sequence 250", first.Transfer.ID)
		if !ok || f.Seq != 300 || f.Asset != "USD" || f.Detail != want {
			t.Fatalf("finding %s, want unique_transfer at 300 (USD): %q; all %v", f, want, rep.Findings)
		}
		if rep.Events != uint64(len(events)) {
			t.Fatalf("%d events audited, want %d", rep.Events, len(events))
		}
	}
}
