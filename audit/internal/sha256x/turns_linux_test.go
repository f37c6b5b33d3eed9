package sha256x_test

import (
	"crypto/sha256"
	"runtime"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit/internal/sha256x"
	"github.com/nats-ledger/ledger/internal/cputime"
)

// BenchmarkTurns hashes the bench line's hash input with crypto/sha256,
// in one lane and in two lanes, taking turns every 1,000 messages so
// that all three see the same load on a shared machine, each timed by
// the CPU time of the benchmark's own thread. An op is a message of each;
// the metrics are CPU ns per message.
func BenchmarkTurns(b *testing.B) {
	m, n := message(7, 32, 513, 1, 0), message(8, 32, 513, 1, 0)
	whole := concat(m)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const turn = 1000
	var spent [3]time.Duration
	for i := 0; i < b.N; i += turn {
		t0 := cputime.Thread()
		for range turn {
			sha256.Sum256(whole)
		}
		t1 := cputime.Thread()
		for range turn {
			sha256x.Sum(m)
		}
		t2 := cputime.Thread()
		for range turn / 2 {
			sha256x.Sum2(m, n)
		}
		t3 := cputime.Thread()
		spent[0], spent[1], spent[2] = spent[0]+t1-t0, spent[1]+t2-t1, spent[2]+t3-t2
	}
	for i, name := range []string{"stdlib", "one-lane", "two-lanes"} {
		b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), name+"-cpu-ns/msg")
	}
}
