//go:build unix

// Package cputime reads CPU time used so far, for benchmarks that report
// CPU time per operation: on a machine shared with other work it is
// steadier than wall time. It imports the standard library only.
package cputime

import (
	"syscall"
	"time"
)

// Process is the process's user and system CPU time so far, 0 when it
// cannot be read.
func Process() time.Duration { return usage(syscall.RUSAGE_SELF) }

func usage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
