package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target for the long-running
// commands (serve, bench) when GOGC is not set: the heap may grow to 3 ×
// what is live before a collection, against Go's 2 × (GOGC=100). Under
// batches of 1,000 the collector was 9% of the server's CPU
// (docs/BENCHMARKS.md, "Batch throughput"), and a collection's cost is
// its marking of the live heap, so collecting half as often halves it.
// The price is memory: the processor's live heap is about 240 MB with a
// million hot ids (docs/BENCHMARKS.md, "Posted ids on disk"), so about
// 720 MB at the peak instead of 480 MB. GOGC and GOMEMLIMIT, when set,
// are the operator's and win (docs/operations.md).
const defaultGCPercent = 200

// tuneGC applies defaultGCPercent unless GOGC is set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
