package domain_test

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// benchPostings returns n stored posting lines shaped as the bench
// ledger writes them (`ledger bench`: ids "bench-<run>-<worker>-<n>",
// accounts "bench-<n>", asset BENCH, a run's reference, amounts under
// one unit, balances of ten digits, times to the nanosecond), the hash
// each chains from and the SHA-256 of each line's hash input.
func benchPostings(b *testing.B, n int) (lines [][]byte, prevs, sums []domain.Hash) {
	b.Helper()
	const accounts = 1000
	st := domain.NewState()
	var prev domain.Hash
	ref := domain.CommandRef{}
	add := func(c domain.Command) []byte {
		ref.Seq++
		c.Ref = ref
		d := st.Decide(c, testEpoch.Add(time.Duration(ref.Seq)*123_456_789))
		if d.Event == nil {
			b.Fatalf("setup: %+v", d)
		}
		line, h, err := domain.AppendEvent(nil, d.Event, prev)
		if err != nil {
			b.Fatal(err)
		}
		prevs, prev = append(prevs, prev), h
		return line[:len(line)-1]
	}
	add(domain.Command{Asset: &domain.Asset{Code: "BENCH", Scale: 2}})
	for i := range accounts {
		id := fmt.Sprintf("bench-%d", i)
		add(domain.Command{Account: &domain.Account{ID: id, Asset: "BENCH"}})
		add(domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: domain.World, To: id, Amount: "1000000000.00"}})
	}
	prevs = prevs[:0]
	for i := range n {
		lines = append(lines, add(domain.Command{Transfer: &domain.Transfer{
			ID:   fmt.Sprintf("bench-7b250376-%d-%d", i%64, i),
			From: fmt.Sprintf("bench-%d", i%accounts), To: fmt.Sprintf("bench-%d", (i*31+1)%accounts),
			Amount: fmt.Sprintf("0.%02d", i%98+1), Asset: "BENCH", Reference: "bench-run-7b250376"}}))
	}
	for i, l := range lines {
		head, body, tail, ok := domain.HashInput(&prevs[i], l)
		if !ok {
			b.Fatal("no hash suffix")
		}
		d := sha256.New()
		d.Write(head)
		d.Write(body)
		d.Write(tail)
		sums = append(sums, domain.Hash(d.Sum(nil)))
	}
	return lines, prevs, sums
}

// BenchmarkReadPosting is the posting reader alone, as the audit's
// workers call it on a line they have hashed: Line.PrepareHashed and
// Line.Posting on bench-ledger posting lines, the SHA-256 excluded.
func BenchmarkReadPosting(b *testing.B) {
	lines, prevs, sums := benchPostings(b, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(lines[0])))
	var l domain.Line
	i := 0
	for b.Loop() {
		k := i % len(lines)
		if _, err := l.PrepareHashed(lines[k], prevs[k], sums[k]); err != nil {
			b.Fatal(err)
		}
		if _, ok := l.Posting(); !ok {
			b.Fatal("not read by the posting reader")
		}
		i++
	}
}

// BenchmarkPostingView is what the audit's workers do with a posting
// line they have hashed in a run without a read model: Line.PrepareHashed
// and Line.PostingView (the compact record's fields), the SHA-256
// excluded.
func BenchmarkPostingView(b *testing.B) {
	lines, prevs, sums := benchPostings(b, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(lines[0])))
	var l domain.Line
	var pv domain.PostingView
	i := 0
	for b.Loop() {
		k := i % len(lines)
		if _, err := l.PrepareHashed(lines[k], prevs[k], sums[k]); err != nil {
			b.Fatal(err)
		}
		if !l.PostingView(&pv) {
			b.Fatal("not read by the posting reader")
		}
		i++
	}
}
