package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// TestCompactPostingsKeepTheChain holds engine.consume to the hashes a
// compact posting's event is built with (lazyEvent) now that
// engine.posting no longer copies each line's hash: over batches of 1 to
// 7 lines of postings (and the lines before them, which take
// engine.line), a batch's last posting that follows another is chained
// after the stored hash of the line before it, and after each batch the
// engine's last hash, which the next batch's first posting is chained
// after, is its last line's.
func TestCompactPostingsKeepTheChain(t *testing.T) {
	j := decidedJournal{st: domain.NewState(), at: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: time.Microsecond}
	add := func(c domain.Command) {
		if err := j.add(c); err != nil {
			t.Fatal(err)
		}
	}
	add(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	for i := range 4 {
		add(domain.Command{Account: &domain.Account{ID: fmt.Sprint("acc-", i), Asset: "USD"}})
		add(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprint("mint-", i), From: domain.World, To: fmt.Sprint("acc-", i), Amount: "1000.00"}})
	}
	for i := range 200 {
		add(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprint("t-", i), From: fmt.Sprint("acc-", i%4),
			To: fmt.Sprint("acc-", (i+1+i%3)%4), Amount: "1.00"}})
	}
	lines := splitLines(j.data)
	e := newEngine(context.Background(), Options{MaxFindings: 10, SizeHint: uint64(len(lines))}, "chain")
	cv := makeChecker(&e.books.idSeeds, true, nil)
	c := &cv
	var prev domain.Hash
	postings := 0
	for from, size := 0, 1; from < len(lines); from, size = from+size, size%7+1 {
		batchLines := lines[from:min(from+size, len(lines))]
		var rm room
		c.room = &rm
		rm.size(len(batchLines))
		for i, l := range batchLines {
			rm.hashes[i] = checkLine(c, l, prev, &rm.items[i], nil)
			prev = rm.hashes[i]
		}
		b := &batch{Chunk: Chunk{Lines: batchLines}, room: rm}
		if err := e.consume(b); err != nil || e.failed() > 0 {
			t.Fatalf("consume: %v %+v", err, e.rep.Findings)
		}
		last := from + len(batchLines) - 1
		if e.lastHash != stored(lines[last]) {
			t.Fatalf("after lines %d-%d: last hash %s, the line's %s", from, last, e.lastHash, stored(lines[last]))
		}
		if b.items[len(batchLines)-1].x != nil || e.lazy.prev == &e.lastHash {
			// Not a compact posting, or one after the batch's start or
			// a line that took engine.line: chained after e.lastHash,
			// which the check above holds for the batch before and
			// engine.line sets, and which now holds this line's own.
			continue
		}
		postings++
		if *e.lazy.hash != stored(lines[last]) || *e.lazy.prev != stored(lines[last-1]) {
			t.Fatalf("line %d (batch from %d): built after %s with hash %s", last, from, *e.lazy.prev, *e.lazy.hash)
		}
		if ev := e.lazy.event(); ev.Seq != uint64(last+1) || ev.PrevHash != stored(lines[last-1]).String() {
			t.Fatalf("line %d: event %d after %s", last, ev.Seq, ev.PrevHash)
		}
	}
	if postings < 20 {
		t.Fatalf("only %d batches ended in a compact posting", postings)
	}
}
