package bench

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// The count check. The journal's ledger sequence is gapless and every
// decided transfer, posted or rejected, takes exactly one sequence number
// (journal.md); shape errors and idempotent repeats take none. The bench
// reads the sequence S0 after its setup is decided and S1 after every
// transfer it sent is decided and the read models caught up. Nobody else
// writes to the ledger in between (the bench's own ledger, or one at --url
// reserved for it), so the events in (S0, S1] are exactly the bench's
// decided transfers:
//
//	ledger posted = (S1 - S0) - R
//
// where R, the run's journaled rejections, is counted exactly by listing
// rejected transfers with the run's reference (few: amounts are small and
// accounts well funded, so normally none). On the client side, every
// request has a unique id and ends in one of:
//
//	posted          201, or a batch item with a posted transfer
//	accepted        202: stored, decided later (all of --async)
//	problem         4xx: the processor's rejection (journaled, in R) or a
//	                refusal of its shape (not journaled)
//	unknown         no answer or 5xx: looked up by id at the end
//
// so the client's count is
//
//	client posted = posted + unknown found posted + accepted - (R not already known to the client)
//
// Equality is exact: a transfer posted twice, lost after a 201, or posted
// without the client learning of it makes the two differ. It holds only if
// the bench is the ledger's only writer during the run; another writer
// shows up as a mismatch, never as a pass.
//
// The money checks: every transfer moves BENCH between two bench
// accounts, so world's balance may not move during the run, and world plus
// every BENCH account sum to zero. Only the bench opens BENCH accounts, and
// only as bench-0, bench-1, ...: their sum covers earlier runs' extra ones.

// checkInput is what the final check compares, gathered through the API.
type checkInput struct {
	benchSum    decimal.Decimal // sum of every bench account's balance at S1
	worldBefore decimal.Decimal // world's BENCH balance at S0
	worldAfter  decimal.Decimal // and at S1
	seqBefore   uint64          // S0
	seqAfter    uint64          // S1

	rejections         int64 // R: journaled rejections with the run's reference
	rejectionsAccepted int64 // of which the client had been answered 202 (not a problem, not unknown)

	posted       int64 // 201s and posted batch items
	unknownFound int64 // unanswered requests found posted at the end
	accepted     int64 // 202s

	incomplete []string // reasons the comparison cannot be exact
}

// checkResult is the check's verdict.
type checkResult struct {
	ledgerPosted int64
	clientPosted int64
	failures     []string
}

// check compares the ledger's figures with the client's; it has no I/O so
// that a test can feed it a broken ledger.
func check(in checkInput) checkResult {
	var r checkResult
	fail := func(format string, args ...any) { r.failures = append(r.failures, fmt.Sprintf(format, args...)) }

	if sum := in.benchSum.Add(in.worldAfter); !sum.IsZero() {
		fail("%s balances sum to %s, not zero (bench accounts %s, world %s)", benchAsset, sum, in.benchSum, in.worldAfter)
	}
	if !in.worldAfter.Equal(in.worldBefore) {
		fail("world's %s balance moved during the run: %s -> %s", benchAsset, in.worldBefore, in.worldAfter)
	}

	r.clientPosted = in.posted + in.unknownFound + in.accepted - in.rejectionsAccepted
	if in.seqAfter < in.seqBefore {
		fail("journal sequence went back: %d -> %d", in.seqBefore, in.seqAfter)
		return r
	}
	events := int64(in.seqAfter - in.seqBefore)
	if in.rejections > events {
		fail("%d rejections listed but only %d journal events in the run", in.rejections, events)
	}
	if in.rejectionsAccepted > in.accepted {
		fail("%d rejections of accepted transfers but only %d accepted", in.rejectionsAccepted, in.accepted)
	}
	r.ledgerPosted = events - in.rejections
	if r.ledgerPosted != r.clientPosted {
		fail("ledger posted %d transfers (journal events %d..%d minus %d rejections), the client counted %d",
			r.ledgerPosted, in.seqBefore+1, in.seqAfter, in.rejections, r.clientPosted)
	}
	for _, why := range in.incomplete {
		fail("count not exact: %s", why)
	}
	return r
}
