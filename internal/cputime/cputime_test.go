//go:build linux

package cputime_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/internal/cputime"
)

// TestCPUTimeGrowsWithWork: a thread that spins for a while has used CPU
// time by then, in both readings.
func TestCPUTimeGrowsWithWork(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p0, t0 := cputime.Process(), cputime.Thread()
	x := uint64(1)
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		x = x*6364136223846793005 + 1442695040888963407
	}
	dp, dt := cputime.Process()-p0, cputime.Thread()-t0
	if dt <= 0 || dp <= 0 {
		t.Fatalf("after spinning (%d): thread %v, process %v", x, dt, dp)
	}
}
