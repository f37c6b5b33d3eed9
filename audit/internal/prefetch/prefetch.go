// Package prefetch asks the CPU to bring memory into its caches ahead of
// its use, without waiting for it: PREFETCHT0 on amd64, nothing
// elsewhere. A load of the same address would do it too, but a load is
// an instruction the core must finish, so a run of loads that miss stalls
// the core until the slowest of them arrives; a prefetch retires at once.
// The audit's in-order part uses it for the tables its postings look up
// (audit.engine.prefetch), and its workers for the lines they cut next
// (audit.lookahead).
package prefetch

// MaxAddrs bounds the addresses a caller hands over at a time: Lines
// takes them one after the other, and a core keeps some 20–50 misses
// under way, so a longer run gains nothing.
const MaxAddrs = 512
