// Package audit reads a ledger's journal from nothing but its stored lines
// and proves, or disproves, that the ledger's books follow from it: the
// sequences are gapless, the hash chain is unbroken, every event has its
// schema, the balances recomputed from scratch equal the ones the entries
// state, each asset sums to zero, no account went below its limit, no
// transfer id was posted twice, and the read model (when there is one)
// equals the recomputed state.
//
// It also builds what the auditing commands need from the same pass:
// balances as of any point (Balances), a rebuilt read model (Replay) and
// an export of the stored lines (Export).
//
// Files: source*.go read the journal (a JetStream stream or an export
// file) as chunks of lines; pipeline.go verifies and decodes chunks on
// every core and hands them back in order; line.go is the per-line work;
// books.go is the recomputed ledger, posted.go its set of posted ids;
// run.go is Run and its options; engine.go runs the in-order checks; readmodel*.go compare a read model,
// whose tables rowstream.go reads in step with the journal; report.go is
// the result.
package audit
