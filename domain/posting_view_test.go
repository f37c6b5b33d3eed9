package domain_test

import (
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// TestPostingViewAgreesWithView: on every line the posting reader takes
// (the posting cases at their bounds and the canonical lines), the
// posting's view holds what View's event does, and on every other line
// there is none.
func TestPostingViewAgreesWithView(t *testing.T) {
	lines, hashes := canonicalLines(t)
	prevs := make([]domain.Hash, len(lines))
	copy(prevs[1:], hashes)
	for _, c := range postingCases {
		lines, prevs = append(lines, storedLine(c.body())), append(prevs, domain.Hash{})
	}
	taken := 0
	for i, line := range lines {
		var l domain.Line
		if _, err := l.Prepare(line, prevs[i]); err != nil {
			continue
		}
		var pv domain.PostingView
		ok := l.PostingView(&pv)
		n, posting := l.Posting()
		if ok != posting {
			t.Fatalf("PostingView says %v, Posting %v, for %q", ok, posting, line)
		}
		if !ok {
			continue
		}
		taken++
		var buf domain.EventBuffer
		ev, err := l.View(&buf)
		if err != nil {
			t.Fatal(err)
		}
		p := ev.Transfer
		want := domain.PostingView{Seq: ev.Seq, Command: ev.Command, Unix: ev.Time.Unix(), Nanos: int32(ev.Time.Nanosecond()),
			ID: p.ID, From: p.From, To: p.To, Asset: p.Asset, Reference: p.Reference, Numbers: n}
		if pv != want || !time.Unix(pv.Unix, int64(pv.Nanos)).UTC().Equal(ev.Time) {
			t.Fatalf("PostingView = %+v, the event says %+v, for %q", pv, want, line)
		}
		if p.Memo || p.Reverses != "" || p.Entries[0].Account != p.From || p.Entries[1].Account != p.To ||
			p.Entries[0].Type != domain.Debit || p.Entries[1].Type != domain.Credit ||
			p.Entries[0].Amount != p.Amount || p.Entries[1].Amount != p.Amount {
			t.Fatalf("a posting the reader took is not of the shape PostingView promises: %q", line)
		}
	}
	if taken == 0 {
		t.Fatal("no line was a posting")
	}
}
