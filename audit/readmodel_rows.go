package audit

import (
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// The read model's rejected transfers and clock, recomputed from the
// journal and compared with the snapshot's rows in step with it.
//
// A rejection has a row at its sequence until its id is rejected again
// (the row moves to the new rejection) or posted (the row becomes the
// posting), and never when its id was posted before (the projector leaves
// a posted row alone). Whether a rejection's row must still be there is
// known only at the checkpoint, so a rejection without a row is held
// until then; one with a row is compared at once.
//
// The clock has a row where the journal's time, clamped to be monotonic,
// advances: the time and the first sequence at it.

// rejectedAt is a rejection whose row the read model must have, unless a
// later event replaces it.
type rejectedAt struct {
	id      string // cloned: it outlives the line
	seq     uint64
	inModel bool // the read model has a row at seq
}

// rejection compares the read model's row at a rejection's sequence, and
// notes what the rejection replaces.
func (rm *readModel) rejection(ev *domain.Event, b *Books, f report) error {
	r := ev.Rejection
	row, err := rm.rejections.peek()
	for err == nil && row != nil && row.Seq < ev.Seq {
		rm.extraRejection(row, f)
		rm.rejections.pop()
		row, err = rm.rejections.peek()
	}
	if err != nil {
		return err
	}
	inModel := row != nil && row.Seq == ev.Seq
	if inModel {
		rm.compareRejection(ev, row, f)
		rm.rejections.pop()
	}
	key := b.keyOf(r.ID)
	if at, posted := b.posted.get(key); posted {
		if inModel {
			f(Finding{Check: CheckReadModel, Seq: ev.Seq, Account: r.From, Asset: r.Asset, Detail: fmt.Sprintf(
				"the read model has a rejection of transfer %s at sequence %d, but the transfer was posted at %d: its row must stay the posting",
				r.ID, ev.Seq, at)})
		}
		return nil
	}
	if before, ok := rm.rejected[key]; ok && before.inModel {
		f(Finding{Check: CheckReadModel, Seq: before.seq, Account: r.From, Asset: r.Asset, Detail: fmt.Sprintf(
			"the read model keeps the rejection of transfer %s at sequence %d, which the rejection at %d replaces",
			before.id, before.seq, ev.Seq)})
	}
	rm.rejected[key] = rejectedAt{id: strings.Clone(r.ID), seq: ev.Seq, inModel: inModel}
	return nil
}

// replaced notes that a posting replaces the row of an earlier rejection
// of its id, if there is one.
func (rm *readModel) replaced(ev *domain.Event, t *domain.Transfer, b *Books, f report) {
	if len(rm.rejected) == 0 {
		return
	}
	key := b.keyOf(t.ID)
	before, ok := rm.rejected[key]
	if !ok {
		return
	}
	delete(rm.rejected, key)
	if before.inModel {
		f(Finding{Check: CheckReadModel, Seq: before.seq, Account: t.From, Asset: t.Asset, Detail: fmt.Sprintf(
			"the read model keeps the rejection of transfer %s at sequence %d, but the transfer was posted at %d",
			before.id, before.seq, ev.Seq)})
	}
}

func (rm *readModel) compareRejection(ev *domain.Event, row *projections.RejectionRow, f report) {
	r := ev.Rejection
	got := domain.Transfer{ID: row.ID, From: row.From, To: row.To, Amount: row.Amount, Asset: row.Asset,
		Reference: row.Reference, Metadata: row.Metadata}
	diffs := requestDiffs(got, row.AtUnixNanos, row.Hash, ev)
	for _, c := range [...]struct{ name, got, want string }{
		{"code", row.Code, string(r.Code)}, {"detail", row.Detail, r.Detail},
	} {
		if c.got != c.want {
			diffs = append(diffs, fmt.Sprintf("%s %q, the journal's %q", c.name, c.got, c.want))
		}
	}
	if len(diffs) > 0 {
		f(Finding{Check: CheckReadModel, Seq: ev.Seq, Account: r.From, Asset: r.Asset, Detail: fmt.Sprintf(
			"rejected transfer %s: %s", r.ID, strings.Join(diffs, "; "))})
	}
}

func (rm *readModel) extraRejection(row *projections.RejectionRow, f report) {
	f(Finding{Check: CheckReadModel, Seq: row.Seq, Account: row.From, Asset: row.Asset, Detail: fmt.Sprintf(
		"the read model has transfer %s rejected at sequence %d, where the journal has no rejection", row.ID, row.Seq)})
}

// finishRejections reports, at the checkpoint, the read model's rejections
// left over and the rejections it lacks, by sequence.
func (rm *readModel) finishRejections(f report) error {
	if err := rm.rejections.each(func(row *projections.RejectionRow) { rm.extraRejection(row, f) }); err != nil {
		return err
	}
	var missing []rejectedAt
	for _, r := range rm.rejected {
		if !r.inModel {
			missing = append(missing, r)
		}
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].seq < missing[j].seq })
	for _, r := range missing {
		f(Finding{Check: CheckReadModel, Seq: r.seq, Detail: fmt.Sprintf(
			"the read model lacks the rejection of transfer %s at sequence %d", r.id, r.seq)})
	}
	return nil
}

// tick compares the read model's clock where the journal's time advances.
func (rm *readModel) tick(ev *domain.Event, f report) error {
	at := ev.Time.UnixNano()
	if at <= rm.lastAt {
		return nil
	}
	rm.lastAt = at
	c, err := rm.clock.peek()
	for err == nil && c != nil && c.UnixNanos < at {
		rm.extraClock(c, f)
		rm.clock.pop()
		c, err = rm.clock.peek()
	}
	switch {
	case err != nil:
		return err
	case c == nil || c.UnixNanos > at:
		f(Finding{Check: CheckReadModel, Seq: ev.Seq, Detail: fmt.Sprintf(
			"the read model's clock lacks time %s, which the journal reaches at sequence %d", formatNanos(at), ev.Seq)})
	default:
		if c.Seq != ev.Seq {
			f(Finding{Check: CheckReadModel, Seq: ev.Seq, Detail: fmt.Sprintf(
				"the read model's clock has time %s at sequence %d, the journal reaches it at %d", formatNanos(at), c.Seq, ev.Seq)})
		}
		rm.clock.pop()
	}
	return nil
}

func (rm *readModel) extraClock(c *projections.ClockRow, f report) {
	f(Finding{Check: CheckReadModel, Seq: c.Seq, Detail: fmt.Sprintf(
		"the read model's clock has time %s at sequence %d, a time the journal does not reach there", formatNanos(c.UnixNanos), c.Seq)})
}

// formatNanos writes Unix nanoseconds as an RFC 3339 UTC time.
func formatNanos(n int64) string { return time.Unix(0, n).UTC().Format(time.RFC3339Nano) }

// requestDiffs lists how a read-model row's copy of a transfer request,
// its time and its event's hash differ from the journal's event (a
// posting or a rejection).
func requestDiffs(got domain.Transfer, gotAt int64, gotHash string, ev *domain.Event) []string {
	var want domain.Transfer
	switch {
	case ev.Transfer != nil:
		want = ev.Transfer.Transfer
	case ev.Rejection != nil:
		want = ev.Rejection.Transfer
	case ev.Conversion != nil:
		want = ev.Conversion.Transfer
	}
	var diffs []string
	for _, c := range [...]struct{ name, got, want string }{
		{"id", got.ID, want.ID}, {"from", got.From, want.From}, {"to", got.To, want.To}, {"amount", got.Amount, want.Amount},
		{"asset", got.Asset, want.Asset}, {"reference", got.Reference, want.Reference},
	} {
		if c.got != c.want {
			diffs = append(diffs, fmt.Sprintf("%s %q, the journal's %q", c.name, c.got, c.want))
		}
	}
	if !maps.Equal(got.Metadata, want.Metadata) {
		diffs = append(diffs, fmt.Sprintf("metadata %v, the journal's %v", got.Metadata, want.Metadata))
	}
	if at := ev.Time.UnixNano(); gotAt != at {
		diffs = append(diffs, fmt.Sprintf("time %s, the journal's %s", formatNanos(gotAt), formatNanos(at)))
	}
	if gotHash != ev.Hash {
		diffs = append(diffs, fmt.Sprintf("hash %q, the journal's %q", gotHash, ev.Hash))
	}
	return diffs
}
