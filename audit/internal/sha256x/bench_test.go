package sha256x_test

import (
	"crypto/sha256"
	"testing"

	"github.com/nats-ledger/ledger/audit/internal/sha256x"
)

// The hash input of a line of the bench ledger: 32 bytes of previous hash,
// the 588-byte line less its 75-byte hash suffix, '}': 546 bytes. The
// three benchmarks report ns per message: compare them directly.

func BenchmarkStdlib(b *testing.B) {
	msg := concat(message(7, 32, 513, 1, 0))
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		sha256.Sum256(msg)
	}
}

func BenchmarkOneLane(b *testing.B) {
	m := message(7, 32, 513, 1, 0)
	b.SetBytes(int64(m.Len()))
	for b.Loop() {
		sha256x.Sum(m)
	}
}

func BenchmarkTwoLanes(b *testing.B) {
	m, n := message(7, 32, 513, 1, 0), message(8, 32, 513, 1, 0)
	b.SetBytes(int64(m.Len() + n.Len()))
	for b.Loop() {
		sha256x.Sum2(m, n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/msg")
}
