package domain_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// benchLedger returns a state with USD and n funded accounts.
func benchLedger(b *testing.B, n int) *domain.State {
	b.Helper()
	st := domain.NewState()
	ref := domain.CommandRef{}
	decide := func(c domain.Command) {
		ref.Seq++
		c.Ref = ref
		if d := st.Decide(c, testEpoch); d.Outcome != domain.Created && d.Outcome != domain.Posted {
			b.Fatalf("setup: %+v", d)
		}
	}
	decide(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	for i := range n {
		id := fmt.Sprintf("acc-%08d", i)
		decide(domain.Command{Account: &domain.Account{ID: id, Asset: "USD"}})
		decide(domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: domain.World, To: id, Amount: "1000000.00"}})
	}
	return st
}

// uuidLike returns a 36-character id shaped like a UUID, the usual shape
// of a client's idempotency key.
func uuidLike(i int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919)
}

// BenchmarkDecideTransfer decides transfers with fresh ids between funded
// accounts: the processor's work per request, without the journal.
func BenchmarkDecideTransfer(b *testing.B) {
	const accounts = 1_000
	st := benchLedger(b, accounts)
	ids := make([]string, accounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("acc-%08d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		c := domain.Command{Ref: domain.CommandRef{Seq: uint64(1e9 + i)},
			Transfer: &domain.Transfer{ID: uuidLike(i), From: ids[i%accounts], To: ids[(i+1)%accounts], Amount: "0.01"}}
		if d := st.Decide(c, testEpoch); d.Outcome != domain.Posted {
			b.Fatalf("decide: %+v", d)
		}
	}
}

// BenchmarkEncodeEvent encodes a posted transfer as a journal line.
func BenchmarkEncodeEvent(b *testing.B) {
	st := benchLedger(b, 2)
	d := st.Decide(domain.Command{Ref: domain.CommandRef{Seq: 1 << 40},
		Transfer: &domain.Transfer{ID: uuidLike(1), From: "acc-00000000", To: "acc-00000001", Amount: "12.34"}}, testEpoch)
	if d.Outcome != domain.Posted {
		b.Fatalf("decide: %+v", d)
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, _, err = domain.AppendEvent(buf[:0], d.Event, domain.Hash{1}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// memoryStateSize is how many accounts or ids the memory benchmarks build.
const memoryStateSize = 1_000_000

// heapAfter returns the live heap after building a value with build, less
// the live heap before; keep is called afterwards so the value stays live.
func heapAfter(build func() any) (uint64, any) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return after.HeapAlloc - before.HeapAlloc, v
}

// BenchmarkMemoryPerAccount reports the processor's memory per open
// account: 1M accounts with 12-character ids, a zero overdraft limit and
// an owner shared by two accounts. It measures space, not time; run it on
// demand with -run=^$ -bench=MemoryPer -benchtime=1x.
func BenchmarkMemoryPerAccount(b *testing.B) {
	for b.Loop() {
		bytes, st := heapAfter(func() any {
			st := domain.NewState()
			seq := uint64(0)
			apply := func(ev *domain.Event) {
				seq++
				ev.Seq, ev.Command, ev.Version, ev.Time = seq, domain.CommandRef{Seq: seq}, domain.SchemaVersion, testEpoch
				if err := st.Apply(ev); err != nil {
					b.Fatal(err)
				}
			}
			apply(&domain.Event{Type: domain.EventAssetDefined, Asset: &domain.Asset{Code: "USD", Scale: 2}})
			for i := range memoryStateSize {
				apply(&domain.Event{Type: domain.EventAccountOpened, Account: &domain.Account{
					ID: fmt.Sprintf("acc-%08d", i), Asset: "USD", OverdraftLimit: "0.00", Owner: fmt.Sprintf("user-%07d", i/2)}})
			}
			return st
		})
		b.ReportMetric(float64(bytes)/memoryStateSize, "B/account")
		runtime.KeepAlive(st)
	}
}

// BenchmarkMemoryPerPostedID reports the processor's memory per
// remembered transfer id: 1M transfers with 36-character (UUID-shaped) ids
// between two accounts. Run it like BenchmarkMemoryPerAccount.
func BenchmarkMemoryPerPostedID(b *testing.B) {
	for b.Loop() {
		s := benchLedger(b, 2)
		bytes, _ := heapAfter(func() any {
			seq := s.Seq()
			for i := range memoryStateSize {
				seq++
				ev := &domain.Event{Seq: seq, Type: domain.EventTransferPosted, Version: domain.SchemaVersion,
					Command: domain.CommandRef{Seq: seq}, Time: testEpoch.Add(time.Duration(i))}
				ev.Transfer = &domain.PostedTransfer{Transfer: domain.Transfer{ID: uuidLike(i), From: "acc-00000000", To: "acc-00000001", Amount: "0.01", Asset: "USD"}}
				if err := s.Apply(ev); err != nil {
					b.Fatal(err)
				}
			}
			return nil
		})
		b.ReportMetric(float64(bytes)/memoryStateSize, "B/id")
		runtime.KeepAlive(s)
	}
}

// benchLines returns n stored lines of posted transfers between 1,000
// accounts, after the lines that set the accounts up, and the hash each
// line chains from.
func benchLines(b *testing.B, n int) (setup, lines [][]byte, prevs []domain.Hash) {
	b.Helper()
	st := domain.NewState()
	var prev domain.Hash
	ref := domain.CommandRef{}
	add := func(c domain.Command) []byte {
		ref.Seq++
		c.Ref = ref
		d := st.Decide(c, testEpoch.Add(time.Duration(ref.Seq)*time.Microsecond))
		if d.Event == nil {
			b.Fatalf("setup: %+v", d)
		}
		p := prev
		line, h, err := domain.AppendEvent(nil, d.Event, prev)
		if err != nil {
			b.Fatal(err)
		}
		prev = h
		prevs = append(prevs, p)
		return line[:len(line)-1]
	}
	setup = append(setup, add(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}}))
	for i := range 1000 {
		id := fmt.Sprintf("acc-%08d", i)
		setup = append(setup, add(domain.Command{Account: &domain.Account{ID: id, Asset: "USD"}}))
		setup = append(setup, add(domain.Command{Transfer: &domain.Transfer{ID: "mint-" + id, From: domain.World, To: id, Amount: "1000000.00"}}))
	}
	for i := range n {
		lines = append(lines, add(domain.Command{Transfer: &domain.Transfer{ID: uuidLike(i),
			From: fmt.Sprintf("acc-%08d", i%1000), To: fmt.Sprintf("acc-%08d", (i*31+1)%1000), Amount: fmt.Sprintf("%d.%02d", i%100+1, i%97)}}))
	}
	return setup, lines, prevs[len(setup):]
}

// BenchmarkPrepareLine is the first stage of a rebuild: checking a stored
// line's place in the hash chain and reading it in place.
func BenchmarkPrepareLine(b *testing.B) {
	_, lines, prevs := benchLines(b, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(lines[0])))
	var l domain.Line
	i := 0
	for b.Loop() {
		if _, err := l.Prepare(lines[i%1000], prevs[i%1000]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkApplyLine is the second stage of a rebuild: decoding and
// applying prepared posted transfers, reported per line.
func BenchmarkApplyLine(b *testing.B) {
	setup, lines, prevs := benchLines(b, 200_000)
	prepared := make([]domain.Line, len(setup)+len(lines))
	var prev domain.Hash
	for i, l := range append(setup, lines...) {
		if i >= len(setup) && prev != prevs[i-len(setup)] {
			b.Fatal("chain")
		}
		var err error
		if prev, err = prepared[i].Prepare(l, prev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		r := domain.NewReplayer(domain.NewState())
		for i := range prepared {
			if err := r.Apply(&prepared[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(prepared)), "ns/line")
}
