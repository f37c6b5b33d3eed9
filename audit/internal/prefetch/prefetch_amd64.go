package prefetch

// Lines prefetches the cache line of each address in addrs (a prefetch
// never faults: any address may be given). The caller keeps what the
// addresses point to alive: an address is only a number here.
//
//go:noescape
func Lines(addrs []uintptr)

// Bytes prefetches every cache line that b's bytes lie on, and up to
// three lines after them (four lines a step). A page that is not mapped
// yet is skipped, not faulted in.
//
//go:noescape
func Bytes(b []byte)
