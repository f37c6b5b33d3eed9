package domain_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

func TestDecideAtomic(t *testing.T) {
	now := time.Unix(0, 0)
	s := domain.NewState()
	n := uint64(0)
	cmd := func(c domain.Command) domain.Command {
		n++
		c.Ref = domain.CommandRef{Seq: n}
		return c
	}
	tr := func(id, from, to, amount string) domain.Command {
		return cmd(domain.Command{Transfer: &domain.Transfer{ID: id, From: from, To: to, Amount: amount}})
	}
	s.Decide(cmd(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}}), now)
	for _, id := range []string{"a", "b"} {
		s.Decide(cmd(domain.Command{Account: &domain.Account{ID: id, Asset: "USD"}}), now)
	}
	s.Decide(tr("fund", domain.World, "a", "10.00"), now)

	// One item over the balance: nothing is posted, the state is as before.
	seq := s.Seq()
	ds := s.DecideAtomic([]domain.Command{tr("x1", "a", "b", "6.00"), tr("x2", "a", "b", "6.00"), tr("x3", "b", "a", "1.00")}, now)
	wantCodes := []domain.Code{domain.CodeBatchAborted, domain.CodeInsufficientFunds, domain.CodeBatchAborted}
	for i, d := range ds {
		if d.Outcome != domain.Rejected || d.Err.Code() != wantCodes[i] || d.Event != nil {
			t.Fatalf("item %d: %+v (%v), want rejected %s with no event", i, d, d.Err, wantCodes[i])
		}
	}
	if s.Seq() != seq {
		t.Fatalf("sequence moved from %d to %d on an aborted batch", seq, s.Seq())
	}
	// The ids are still free and the balance is still 10.00.
	ds = s.DecideAtomic([]domain.Command{tr("x1", "a", "b", "6.00"), tr("x2", "a", "b", "4.00")}, now)
	for i, d := range ds {
		if d.Outcome != domain.Posted {
			t.Fatalf("retry item %d: %+v (%v)", i, d, d.Err)
		}
		if d.Event.Seq != seq+uint64(i)+1 {
			t.Fatalf("retry item %d at sequence %d, want %d", i, d.Event.Seq, seq+uint64(i)+1)
		}
	}
	if bal := ds[1].Event.Transfer.Entries[0].Balance; bal != "0.00" {
		t.Fatalf("a after the batch: %s, want 0.00", bal)
	}
	// Replays inside a batch are fine; a conflicting reuse aborts it.
	ds = s.DecideAtomic([]domain.Command{tr("x1", "a", "b", "6.00"), tr("x4", "b", "a", "1.00")}, now)
	if ds[0].Outcome != domain.Replayed || ds[1].Outcome != domain.Posted {
		t.Fatalf("replay in a batch: %+v %+v", ds[0], ds[1])
	}
	ds = s.DecideAtomic([]domain.Command{tr("x5", "b", "a", "1.00"), tr("x1", "a", "b", "7.00")}, now)
	if ds[0].Err.Code() != domain.CodeBatchAborted || ds[1].Err.Code() != domain.CodeIdempotencyConflict {
		t.Fatalf("conflict in a batch: %v %v", ds[0].Err, ds[1].Err)
	}
	if d := s.Decide(tr("x5", "b", "a", "1.00"), now); d.Outcome != domain.Posted {
		t.Fatalf("x5 after the aborted batch: %+v", d)
	}
	// Bounds.
	big := make([]domain.Command, domain.MaxAtomicBatch+1)
	for i := range big {
		big[i] = tr(fmt.Sprintf("big-%d", i), domain.World, "a", "1")
	}
	for _, d := range s.DecideAtomic(big, now) {
		if d.Outcome != domain.Rejected {
			t.Fatal("an oversized atomic batch was decided")
		}
	}
}

// An atomic batch must fit the one journal record it is written as: a
// batch whose lines could outgrow domain.MaxAtomicRecordBytes is refused
// whole, and every batch that passes encodes under it.
func TestAtomicBatchFitsOneRecord(t *testing.T) {
	now := time.Unix(0, 0)
	s := domain.NewState()
	s.Decide(domain.Command{Ref: domain.CommandRef{Seq: 1}, Asset: &domain.Asset{Code: "USD", Scale: 2}}, now)
	s.Decide(domain.Command{Ref: domain.CommandRef{Seq: 2}, Account: &domain.Account{ID: "b", Asset: "USD"}}, now)
	heavy := func(n int, value string) []domain.Command {
		meta := map[string]string{}
		for k := range 32 {
			meta[fmt.Sprintf("k%02d", k)] = value
		}
		cmds := make([]domain.Command, n)
		for i := range cmds {
			cmds[i] = domain.Command{Ref: domain.CommandRef{Seq: 3, Item: i}, Transfer: &domain.Transfer{
				ID: fmt.Sprintf("heavy-%04d", i), From: domain.World, To: "b", Amount: "1", Metadata: meta}}
		}
		return cmds
	}
	// 1,000 transfers of 32 values of 100 '<' (each written \u003c): ~19 MiB.
	ds := s.DecideAtomic(heavy(1000, strings.Repeat("<", 100)), now)
	for i, d := range ds {
		if d.Outcome != domain.Rejected || d.Err.Code() != domain.CodeValidationFailed || !strings.Contains(d.Err.Error(), "one journal record") {
			t.Fatalf("item %d: %+v (%v), want validation_failed", i, d, d.Err)
		}
	}
	// A heavy batch that passes (~3 MiB escaped) encodes under the bound.
	ds = s.DecideAtomic(heavy(30, strings.Repeat("<", 512)), now)
	var record []byte
	var prev domain.Hash
	for i, d := range ds {
		if d.Outcome != domain.Posted {
			t.Fatalf("item %d: %+v (%v)", i, d, d.Err)
		}
		var err error
		if record, prev, err = domain.AppendEvent(record, d.Event, prev); err != nil {
			t.Fatal(err)
		}
	}
	if len(record) > domain.MaxAtomicRecordBytes {
		t.Fatalf("an accepted atomic batch encodes to %d bytes, over %d", len(record), domain.MaxAtomicRecordBytes)
	}
}
