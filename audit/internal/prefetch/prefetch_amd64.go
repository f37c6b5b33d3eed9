package prefetch

// Lines prefetches the cache line of each address in addrs (a prefetch
// never faults: any address may be given). The caller keeps what the
// addresses point to alive: an address is only a number here.
//
//go:noescape
func Lines(addrs []uintptr)
