//go:build unix && !linux

package cputime

import "time"

// Thread is 0 where the calling thread's own CPU time cannot be read
// (RUSAGE_THREAD is Linux's).
func Thread() time.Duration { return 0 }
