package audit

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// readModel compares a read-model snapshot with the books: each posting,
// rejection and clock row in step with the journal, everything else at
// the snapshot's checkpoint, when the books are exactly where the read
// model claims to be.
type readModel struct {
	snap *projections.Snapshot
	cp   uint64
	info ReadModelInfo

	postings   *rowStream[projections.PostingRow]
	rejections *rowStream[projections.RejectionRow]
	clock      *rowStream[projections.ClockRow]
	stopc      chan struct{}
	done       bool // the state was compared at the checkpoint

	// The journal's rejections whose row the read model must still have
	// (the id was neither posted nor rejected again since), by id; and
	// the journal's clock so far.
	rejected map[idKey]rejectedAt
	lastAt   int64
}

func startReadModel(ctx context.Context, snap *projections.Snapshot, path string) *readModel {
	cp := snap.Checkpoint().Seq
	rm := &readModel{snap: snap, cp: cp, info: ReadModelInfo{Path: path, Checkpoint: cp},
		stopc: make(chan struct{}), rejected: map[idKey]rejectedAt{}, lastAt: math.MinInt64}
	rm.postings = streamRows(ctx, rm.stopc, snap.Postings)
	rm.rejections = streamRows(ctx, rm.stopc, snap.Rejections)
	rm.clock = streamRows(ctx, rm.stopc, snap.Clock)
	return rm
}

// stop ends the readers and waits for them.
func (rm *readModel) stop() {
	select {
	case <-rm.stopc:
		return
	default:
	}
	close(rm.stopc)
	rm.postings.drain()
	rm.rejections.drain()
	rm.clock.drain()
}

// onEvent compares the read model's clock where ev's time advances it,
// its posting at ev's sequence if ev is a posting the books applied, its
// rejection if ev is a rejection, and the whole state once the books
// reach the checkpoint.
func (rm *readModel) onEvent(ctx context.Context, ev *domain.Event, applied bool, b *Books, f report) error {
	if rm.done || ev.Seq > rm.cp {
		return nil
	}
	if err := rm.tick(ev, f); err != nil {
		return err
	}
	if err := ev.Dispatch(readModelEvent{rm: rm, b: b, f: f, applied: applied}); err != nil {
		return err
	}
	if ev.Seq == rm.cp {
		return rm.compareState(ctx, b, f)
	}
	return nil
}

// readModelEvent is onEvent's handler of each event type: postings and
// rejections have rows to compare; the rest only the state at the
// checkpoint.
type readModelEvent struct {
	domain.IgnoreEvents
	rm      *readModel
	b       *Books
	f       report
	applied bool // the books applied the posting
}

func (h readModelEvent) TransferPosted(ev *domain.Event, _ *domain.PostedTransfer) error {
	if !h.applied {
		return nil
	}
	if err := h.rm.posting(ev, h.b, h.f); err != nil {
		return err
	}
	h.rm.replaced(ev, &ev.Transfer.Transfer, h.b, h.f)
	return nil
}

func (h readModelEvent) TransferRejected(ev *domain.Event, _ *domain.RejectedTransfer) error {
	return h.rm.rejection(ev, h.b, h.f)
}

// postingAt takes the read model's posting row at ev's sequence: rows
// before it are extra (each a finding); none at it is a finding naming t,
// what the journal did with it ("posted", "converted"), and p is nil.
func (rm *readModel) postingAt(ev *domain.Event, t *domain.Transfer, did string, f report) (*projections.PostingRow, error) {
	p, err := rm.postings.peek()
	for err == nil && p != nil && p.Seq < ev.Seq {
		rm.extraPosting(p, f)
		rm.postings.pop()
		p, err = rm.postings.peek()
	}
	if err != nil {
		return nil, err
	}
	if p == nil || p.Seq > ev.Seq {
		f(Finding{Check: CheckReadModel, Seq: ev.Seq, Account: t.From, Asset: t.Asset, Detail: fmt.Sprintf(
			"the read model lacks transfer %s, %s at sequence %d", t.ID, did, ev.Seq)})
		return nil, nil
	}
	rm.postings.pop()
	rm.info.Postings++
	return p, nil
}

func (rm *readModel) posting(ev *domain.Event, b *Books, f report) error {
	t := ev.Transfer
	p, err := rm.postingAt(ev, &t.Transfer, "posted", f)
	if p == nil {
		return err
	}
	if p.ToAsset != "" {
		f(Finding{Check: CheckReadModel, Seq: ev.Seq, Account: t.From, Asset: t.Asset, Detail: fmt.Sprintf(
			"the read model has transfer %s as a conversion to %s", t.ID, p.ToAsset)})
	}
	got := domain.Transfer{ID: p.ID, From: p.From, To: p.To, Amount: p.Amount, Asset: p.Asset, Reference: p.Reference, Metadata: p.Metadata}
	var diffs []string
	if d := requestDiffs(got, p.AtUnixNanos, p.Hash, ev); len(d) > 0 {
		diffs = append(diffs, "transfer "+t.ID+": "+strings.Join(d, "; "))
	}
	account := ""
	for i, side := range [2]struct{ account, got string }{{t.From, p.DebitBalance}, {t.To, p.CreditBalance}} {
		if side.got != b.after[i] {
			if account == "" {
				account = side.account
			}
			got := side.got
			if got == "" {
				got = "missing"
			}
			diffs = append(diffs, fmt.Sprintf("%s entry of %s: balance after %s, recomputed %s", t.Entries[i].Type, side.account, got, b.after[i]))
		}
	}
	if len(diffs) > 0 {
		if account == "" {
			account = t.From
		}
		f(Finding{Check: CheckReadModel, Seq: ev.Seq, Account: account, Asset: t.Asset, Detail: strings.Join(diffs, "; ")})
	}
	return nil
}

func (rm *readModel) extraPosting(p *projections.PostingRow, f report) {
	f(Finding{Check: CheckReadModel, Seq: p.Seq, Account: p.From, Asset: p.Asset, Detail: fmt.Sprintf(
		"the read model has transfer %s posted at sequence %d, where the journal has no posting", p.ID, p.Seq)})
}

// compareState compares assets, accounts and the entry count with the
// books, which must stand at the checkpoint, and reports the read
// model's postings, rejections and clock rows left over, and the
// rejections it lacks.
func (rm *readModel) compareState(ctx context.Context, b *Books, f report) error {
	rm.done = true
	if err := rm.postings.each(func(p *projections.PostingRow) { rm.extraPosting(p, f) }); err != nil {
		return err
	}
	if err := rm.finishRejections(f); err != nil {
		return err
	}
	if err := rm.clock.each(func(c *projections.ClockRow) { rm.extraClock(c, f) }); err != nil {
		return err
	}
	if err := rm.compareAssets(ctx, b, f); err != nil {
		return err
	}
	if err := rm.compareAccounts(ctx, b, f); err != nil {
		return err
	}
	n, err := rm.snap.CountEntries(ctx)
	if err != nil {
		return err
	}
	// Two entries a posting, four a conversion.
	if want := 2*b.postings + 2*b.conversions; n != want {
		f(Finding{Check: CheckReadModel, Seq: rm.cp, Detail: fmt.Sprintf(
			"the read model has %d entries; the journal's %d postings up to sequence %d make %d", n, b.postings, rm.cp, want)})
	}
	return nil
}

func (rm *readModel) compareAssets(ctx context.Context, b *Books, f report) error {
	seen := make(map[string]bool, len(b.assets))
	err := rm.snap.Assets(ctx, func(r projections.AssetRow) error {
		as, ok := b.assets[r.Code]
		switch {
		case !ok:
			f(Finding{Check: CheckReadModel, Seq: rm.cp, Asset: r.Code, Detail: fmt.Sprintf(
				"the read model has asset %s, which the journal does not define by sequence %d", r.Code, rm.cp)})
		case r.Scale != as.scale || r.Seq != as.world.createdSeq:
			f(Finding{Check: CheckReadModel, Seq: as.world.createdSeq, Asset: r.Code, Detail: fmt.Sprintf(
				"asset %s has scale %d defined at %d in the read model, scale %d at %d in the journal", r.Code, r.Scale, r.Seq, as.scale, as.world.createdSeq)})
		}
		seen[r.Code] = true
		return nil
	})
	if err != nil {
		return err
	}
	for _, code := range sortedKeys(b.assets) {
		if !seen[code] {
			f(Finding{Check: CheckReadModel, Seq: b.assets[code].world.createdSeq, Asset: code, Detail: "the read model lacks asset " + code})
		}
	}
	return nil
}

func (rm *readModel) compareAccounts(ctx context.Context, b *Books, f report) error {
	const mark = 1
	err := rm.snap.Accounts(ctx, func(r projections.AccountRow) error {
		var acc *accountBook
		if as, ok := b.assets[r.Asset]; ok {
			if acc = b.account(r.ID, as); acc != nil && acc.asset != as {
				acc = nil
			}
		}
		if acc == nil {
			f(Finding{Check: CheckReadModel, Seq: rm.cp, Account: r.ID, Asset: r.Asset, Detail: fmt.Sprintf(
				"the read model has this account, which the journal has not opened by sequence %d", rm.cp)})
			return nil
		}
		acc.mark = mark
		rm.info.Accounts++
		scale := acc.asset.scale
		var diffs []string
		if want := acc.balance.Format(scale); r.Balance != want {
			diffs = append(diffs, fmt.Sprintf("balance %s, recomputed %s", r.Balance, want))
		}
		if r.OverdraftLimit != acc.limit {
			diffs = append(diffs, fmt.Sprintf("overdraft limit %s, journaled %s", r.OverdraftLimit, acc.limit))
		}
		if r.CreatedSeq != acc.createdSeq {
			diffs = append(diffs, fmt.Sprintf("opened at sequence %d, in the journal at %d", r.CreatedSeq, acc.createdSeq))
		}
		if r.Seq != acc.lastSeq {
			diffs = append(diffs, fmt.Sprintf("last changed at sequence %d, in the journal at %d", r.Seq, acc.lastSeq))
		}
		if len(diffs) > 0 {
			f(Finding{Check: CheckReadModel, Seq: acc.lastSeq, Account: r.ID, Asset: r.Asset, Detail: fmt.Sprintf(
				"after sequence %d (read model checkpoint %d): %s", acc.lastSeq, rm.cp, strings.Join(diffs, "; "))})
		}
		return nil
	})
	if err != nil {
		return err
	}
	var missing []*accountBook
	for _, acc := range b.accounts {
		if acc.mark != mark {
			missing = append(missing, acc)
		}
	}
	for _, as := range b.assets {
		if as.world.mark != mark {
			missing = append(missing, as.world)
		}
	}
	sort.Slice(missing, func(i, j int) bool {
		if missing[i].asset.code != missing[j].asset.code {
			return missing[i].asset.code < missing[j].asset.code
		}
		return missing[i].id < missing[j].id
	})
	for _, acc := range missing {
		f(Finding{Check: CheckReadModel, Seq: acc.createdSeq, Account: acc.id, Asset: acc.asset.code,
			Detail: fmt.Sprintf("the read model lacks this account, opened at sequence %d", acc.createdSeq)})
	}
	return nil
}

// finish reports a read model whose checkpoint the journal never reached.
func (rm *readModel) finish(last uint64, f report) {
	if !rm.done {
		rm.done = true
		f(Finding{Check: CheckReadModel, Seq: rm.cp, Detail: fmt.Sprintf(
			"the read model's checkpoint %d is past the journal's last sequence %d", rm.cp, last)})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
