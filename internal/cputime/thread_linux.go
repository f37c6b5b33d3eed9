package cputime

import "time"

// Thread is the calling thread's user and system CPU time so far
// (RUSAGE_THREAD), 0 when it cannot be read; the caller keeps to its
// thread (runtime.LockOSThread) between two readings.
func Thread() time.Duration { return usage(rusageThread) }

// rusageThread is Linux's RUSAGE_THREAD, which package syscall does not
// name.
const rusageThread = 1
