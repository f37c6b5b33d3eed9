package domain_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// The posting reader keeps the fields that a line repeats from the one
// before (its sequences, its time's fixed part, its asset and reference)
// and reads them by comparing bytes: these tests read lines one after
// the other with one Line, as the audit's workers do, and hold each to
// the general reader on a fresh Line (checkPostingReaderAfter).

// memoFields are the fields of a posting that the reader keeps.
type memoFields struct {
	seq, cmd, item, time, asset, ref string // ref "": no reference
}

func (f memoFields) body() []byte {
	ref := ""
	if f.ref != "" {
		ref = `,"reference":"` + f.ref + `"`
	}
	return []byte(`{"seq":` + f.seq + `,"type":"TransferPosted","v":1,"command":{"seq":` + f.cmd + `,"item":` + f.item + `},"time":"` + f.time + `",` +
		`"transfer":{"id":"t-1","from":"world","to":"alice","amount":"100.00","asset":"` + f.asset + `"` + ref + `,` +
		`"entries":[{"account":"world","type":"debit","amount":"100.00","balance":"-100.00"},{"account":"alice","type":"credit","amount":"100.00","balance":"100.00"}]},` +
		`"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000"}`)
}

// readAfter reads each line of fs in turn with one Line, checking each.
func readAfter(t *testing.T, fs ...memoFields) (taken int) {
	t.Helper()
	var fast domain.Line
	for _, f := range fs {
		if checkPostingReaderAfter(t, &fast, storedLine(f.body()), domain.Hash{}) {
			taken++
		}
	}
	return taken
}

var memoBase = memoFields{seq: "4", cmd: "3", item: "1", time: "2026-03-01T09:30:00.123456789Z", asset: "USD", ref: "invoice 7"}

// TestPostingReaderSequences: a line after another whose fields it
// repeats, follows or differs from in every way the reader tells apart
// (the sequences one on, the same, back, a digit more, at the memo's
// bound of 15 digits and uint64's; the time in each of its fixed part's
// bytes, across days, months, years and a leap day, with each fraction
// the reader refuses; the asset and the reference the same, another of
// the same length, and refused), is read as the general reader reads it.
func TestPostingReaderSequences(t *testing.T) {
	with := func(change func(*memoFields)) memoFields {
		f := memoBase
		change(&f)
		return f
	}
	seqs := []string{"1", "2", "3", "2", "2", "9", "10", "11", "99", "100", "999999999", "1000000000", "1000000001",
		"999999999999998", "999999999999999", "1000000000000000", "1000000000000001", "18446744073709551614",
		"18446744073709551615", "18446744073709551616", "5", "6", "06", "7", "7.0", "8", "8e1", "9", "0", "1", "10", "1", "2"}
	var fs []memoFields
	for _, s := range seqs {
		fs = append(fs, with(func(f *memoFields) { f.seq = s }), with(func(f *memoFields) { f.cmd = s }),
			with(func(f *memoFields) { f.item = s }))
	}
	// Each field's walk alone, then the three together.
	for k := range 3 {
		var walk []memoFields
		for i := range seqs {
			walk = append(walk, fs[3*i+k])
		}
		if readAfter(t, walk...) == 0 {
			t.Fatal("none taken")
		}
	}
	for _, pair := range [][2]string{
		{"2026-12-31T23:59:59.999999999Z", "2027-01-01T00:00:00Z"},
		{"2026-01-31T23:59:59.5Z", "2026-02-01T00:00:00.5Z"},
		{"2024-02-28T23:59:59Z", "2024-02-29T00:00:00Z"},
		{"2023-02-28T23:59:59Z", "2023-02-29T00:00:00Z"},
		{"2026-03-01T09:30:00.1Z", "2026-03-01T09:30:00.10Z"},
		{"2026-03-01T09:30:00.1Z", "2026-03-01T09:30:00.1234567891Z"},
		{"2026-03-01T09:30:00.1Z", "2026-03-01T09:30:00.Z"},
		{"2026-03-01T09:30:00.1Z", "2026-03-01T09:30:00.12345678Z"},
		{"2026-03-01T09:30:00.1Z", "2026-03-01T09:30:00.123456780Z"},
		{"2026-03-01T09:30:00.1Z", "2026-03-01T09:30:00.12345678aZ"},
		{"2026-03-01T09:30:00.1Z", "2026-03-01T09:30:00.123456789"},
		{"2026-03-01T09:30:00.1Z", "2026-03-01T09:30:00.123456789+00:00"},
		{"2026-03-01T09:30:00.1Z", "2026-03-01T09:30:00"},
		{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.5Z"},
		{"9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999999Z"},
	} {
		readAfter(t, with(func(f *memoFields) { f.time = pair[0] }), with(func(f *memoFields) { f.time = pair[1] }))
	}
	// The fixed part differing from the last line's in one byte, to each
	// byte a time may hold there and a few it may not.
	for pos := range 19 {
		for _, c := range []byte("0123456789-:TZ.\"a \x00\xff") {
			b := []byte(memoBase.time)
			b[pos] = c
			readAfter(t, memoBase, with(func(f *memoFields) { f.time = string(b) }), memoBase)
		}
	}
	for _, s := range [][2]string{
		{"USD", "USD"}, {"USD", "USE"}, {"USD", "usd"}, {"USD", "US"}, {"USD", "USDX"}, {"ABCDEFGHIJKLMN_9", "ABCDEFGHIJKLMN_9"},
		{"ABCDEFGHIJKLMNOPQ", "ABCDEFGHIJKLMNOPQ"}, {"U", "U"}, {"USD", ""},
	} {
		readAfter(t, with(func(f *memoFields) { f.asset = s[0] }), with(func(f *memoFields) { f.asset = s[1] }))
	}
	long := strings.Repeat("r", 38)
	for _, s := range [][2]string{
		{"invoice 7", "invoice 7"}, {"invoice 7", "invoice 8"}, {"invoice 7", "invoice 77"}, {"invoice 7", "invoice "},
		{"invoice 7", ""}, {"", "invoice 7"}, {"i", "i"}, {long, long}, {long + "r", long + "r"}, {long, long[:37] + "s"},
		{"invoice <7>", "invoice <7>"}, {"é", "é"}, {"a\x7f", "a\x7f"}, {"invoice 7", `invoice 7\"`}, {"invoice 7", "invoice 7\xff"},
	} {
		readAfter(t, with(func(f *memoFields) { f.ref = s[0] }), with(func(f *memoFields) { f.ref = s[1] }), with(func(f *memoFields) { f.ref = s[0] }))
	}
}

// memoWalk returns n postings, each near the one before as journals
// have them (the sequence one on, the command the same or the next, the
// item one on or 0, the time a little later, the same asset and
// reference), with every field now and then otherwise: another value,
// or one byte changed anywhere in it.
func memoWalk(r *rand.Rand, n int) []memoFields {
	seq, cmd, item := uint64(999_999_990), uint64(98), uint64(7)
	at := time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC)
	assets := []string{"USD", "BENCH", "ABCDEFGHIJKLMN_9", "usd", "ABCDEFGHIJKLMNOPQ"}
	refs := []string{"bench-run-7b250376", "bench-run-7b250377", "", "invoice <7>", strings.Repeat("x", 38), strings.Repeat("y", 39)}
	asset, ref := assets[0], refs[0]
	mangle := func(s string) string {
		if s == "" || r.IntN(8) != 0 {
			return s
		}
		b := []byte(s)
		b[r.IntN(len(b))] = "09.eE-:TZ\"\\ a\x00\xff"[r.IntN(15)]
		return string(b)
	}
	var fs []memoFields
	for range n {
		seq++
		switch r.IntN(40) {
		case 0:
			seq = r.Uint64N(1 << uint(r.IntN(64)))
		case 1:
			seq -= 2
		}
		switch r.IntN(4) {
		case 0:
			cmd, item = cmd+1, 0
		case 1:
			cmd = r.Uint64N(1 << uint(r.IntN(64)))
		default:
			item++
		}
		if r.IntN(30) == 0 {
			item = r.Uint64N(1 << uint(r.IntN(64)))
		}
		at = at.Add([]time.Duration{1, 7, 123_456_789, time.Second, time.Minute, time.Hour, 24 * time.Hour, 31 * 24 * time.Hour, 0, 100}[r.IntN(10)])
		if r.IntN(20) == 0 {
			asset = assets[r.IntN(len(assets))]
		}
		if r.IntN(20) == 0 {
			ref = refs[r.IntN(len(refs))]
		}
		fs = append(fs, memoFields{
			seq: mangle(strconv.FormatUint(seq, 10)), cmd: mangle(strconv.FormatUint(cmd, 10)), item: mangle(strconv.FormatUint(item, 10)),
			time: mangle(at.Format(time.RFC3339Nano)), asset: mangle(asset), ref: mangle(ref)})
	}
	return fs
}

// TestPostingReaderWalk: random walks of postings (memoWalk) read one
// after the other with one Line, each as the general reader reads it.
func TestPostingReaderWalk(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 5))
	taken, n := 0, 0
	for range 200 {
		fs := memoWalk(r, 100)
		taken += readAfter(t, fs...)
		n += len(fs)
	}
	if taken < n/4 {
		t.Fatalf("the posting reader took %d lines of %d", taken, n)
	}
	t.Logf("taken: %d of %d", taken, n)
}

// FuzzPostingReaderPair: a line read after another with the same Line,
// so that the second meets what the reader kept of the first, is read
// as the general reader reads it on its own.
func FuzzPostingReaderPair(f *testing.F) {
	addLinePairs(f, rand.New(rand.NewPCG(7, 1)))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if !bothBodies(a, b) {
			return
		}
		var fast domain.Line
		checkPostingReaderAfter(t, &fast, storedLine(a), domain.Hash{})
		checkPostingReaderAfter(t, &fast, storedLine(b), domain.Hash{})
	})
}

// TestPostingReaderAfterOtherLines: every posting case read after every
// other line (each posting case, and lines of other types whose views
// hold fields a posting leaves empty: an asset's code and scale, an
// account's fields and metadata, a rejection's code and detail, a line
// the readers refuse) with one Line, so that the view the reader clears
// only in part (lineView.reset) meets every kind of field an earlier
// line left, is read as the general reader reads it on a fresh Line.
func TestPostingReaderAfterOtherLines(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 5, time.UTC)
	others := []*domain.Event{
		{Seq: 1, Type: domain.EventAssetDefined, Version: 1, Command: domain.CommandRef{Seq: 1}, Time: at,
			Asset: &domain.Asset{Code: "USD", Scale: 2}},
		{Seq: 2, Type: domain.EventAccountOpened, Version: 1, Command: domain.CommandRef{Seq: 2}, Time: at,
			Account: &domain.Account{ID: "alice", Asset: "USD", OverdraftLimit: "10.00", Owner: "o-1", Metadata: map[string]string{"a": "b", "c": "d"}}},
		{Seq: 3, Type: domain.EventTransferRejected, Version: 1, Command: domain.CommandRef{Seq: 3, Item: 2}, Time: at,
			Rejection: &domain.RejectedTransfer{Transfer: domain.Transfer{ID: "t-9", From: "world", To: "alice", Amount: "1.00",
				Asset: "USD", Reference: "r", Metadata: map[string]string{"k": "v"}, Memo: true}, Code: "insufficient_funds", Detail: "no"}},
	}
	var lines [][]byte
	for _, ev := range others {
		line, _, err := domain.AppendEvent(nil, ev, domain.Hash{})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line[:len(line)-1])
	}
	lines = append(lines, storedLine([]byte(`{"seq":5,"type":"x"}`)))
	var postings [][]byte
	for _, c := range postingCases {
		postings = append(postings, storedLine(c.body()))
	}
	lines = append(lines, postings...)
	taken := 0
	for _, first := range lines {
		for _, second := range postings {
			var fast domain.Line
			checkPostingReaderAfter(t, &fast, first, domain.Hash{})
			if checkPostingReaderAfter(t, &fast, second, domain.Hash{}) {
				taken++
			}
		}
	}
	if taken < len(lines) {
		t.Fatalf("the posting reader took %d second lines of %d", taken, len(lines)*len(postings))
	}
}

// FuzzPostingReaderRepeat: a line read after another that was read twice
// with the same Line, so that it meets every memo the reader keeps, the
// asset and reference one too (kept from a line whose reference repeats
// the last one's), is read as the general reader reads it on its own.
func FuzzPostingReaderRepeat(f *testing.F) {
	addLinePairs(f, rand.New(rand.NewPCG(8, 2)))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if !bothBodies(a, b) {
			return
		}
		var fast domain.Line
		checkPostingReaderAfter(t, &fast, storedLine(a), domain.Hash{})
		checkPostingReaderAfter(t, &fast, storedLine(a), domain.Hash{})
		checkPostingReaderAfter(t, &fast, storedLine(b), domain.Hash{})
	})
}

// addLinePairs seeds a fuzz target of two lines read one after the
// other: neighbours of a walk through the memos' rollovers, and every
// posting case after the plain posting.
func addLinePairs(f *testing.F, r *rand.Rand) {
	fs := memoWalk(r, 64)
	for i := 1; i < len(fs); i++ {
		f.Add(fs[i-1].body(), fs[i].body())
	}
	for _, c := range postingCases {
		f.Add([]byte(postingBody), c.body())
	}
}

// bothBodies reports whether a and b may be event bodies (objects a
// stored line's suffix can follow): what the pair targets read.
func bothBodies(a, b []byte) bool {
	return len(a) >= 2 && a[len(a)-1] == '}' && len(b) >= 2 && b[len(b)-1] == '}'
}
