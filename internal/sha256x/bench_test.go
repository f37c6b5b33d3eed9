package sha256x_test

import (
	"crypto/sha256"
	"testing"

	"github.com/nats-ledger/ledger/internal/sha256x"
)

// benchLen is the hash input of a line of the bench ledger: 32 bytes of
// previous hash, the 588-byte line less its 75-byte hash suffix, '}'.
const benchLen = 546

// The three benchmarks report ns per message: compare them directly.

func BenchmarkStdlib(b *testing.B) {
	msg := randomBytes(7, benchLen)
	b.SetBytes(benchLen)
	for b.Loop() {
		sha256.Sum256(msg)
	}
}

func BenchmarkOneLane(b *testing.B) {
	p := sha256x.Pad(randomBytes(7, benchLen))
	b.SetBytes(benchLen)
	for b.Loop() {
		sha256x.SumPadded(p)
	}
}

func BenchmarkTwoLanes(b *testing.B) {
	p, q := sha256x.Pad(randomBytes(7, benchLen)), sha256x.Pad(randomBytes(8, benchLen))
	b.SetBytes(2 * benchLen)
	for i := 0; b.Loop(); i += 2 {
		sha256x.SumPadded2(p, q)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/msg")
}
