package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/nats-ledger/ledger/domain"
)

// literalCases are amount literals around what domain.ParseLiteral takes and
// what it leaves to the domain's parsers: the int64 limits, 18, 19 and 20
// digits, every malformed shape.
var literalCases = []string{
	"0", "-0", "0.00", "-0.00", "1", "1.00", "12.34", "-12.34", "0.01", "-0.01",
	"999999999999999999", "99999999999999999.9", "0.99999999999999999", "-999999999999999999",
	"1000000000000000000", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
	"-9223372036854775809", "92233720368547758.07", "92233720368547758.08", "18446744073709551616",
	"99999999999999999999.99", "-99999999999999999999.99", "0.000000000000000001", "0.0000000000000000001",
	"", "-", "--1", "+1", ".5", "5.", "-.5", "1..0", "1.0.0", "01", "-01", "00.5", "0.5e3", "1e3",
	" 1", "1 ", "1,00", "١", "1.", "abc", "-0.5", strings.Repeat("9", 39), "1." + strings.Repeat("0", 18),
	"1." + strings.Repeat("0", 19), strings.Repeat("1", 77),
}

// TestParseLiteralAgrees: whatever domain.ParseLiteral takes, the domain's
// parsers take too, at the same places, to the same value.
func TestParseLiteralAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := append([]string(nil), literalCases...)
	for range 20000 {
		cases = append(cases, randomLiteral(rng))
	}
	taken := 0
	for _, s := range cases {
		for _, signed := range []bool{false, true} {
			if parseLiteralAgrees(t, s, signed) {
				taken++
			}
		}
	}
	if taken == 0 {
		t.Fatal("ParseLiteral took no literal")
	}
}

func parseLiteralAgrees(t *testing.T, s string, signed bool) bool {
	t.Helper()
	v, places, ok := domain.ParseLiteral(s, signed)
	if !ok {
		return false
	}
	parse := domain.ParseAmount
	if signed {
		parse = domain.ParseBalance
	}
	want, err := parse(s, places)
	if err != nil || want != v || places > domain.MaxScale {
		t.Fatalf("ParseLiteral(%q, %v) = %v at %d places; the domain reads %v, %v", s, signed, v.Format(places), places, want.Format(places), err)
	}
	return true
}

// FuzzParseLiteral holds domain.ParseLiteral to the domain's parsers.
func FuzzParseLiteral(f *testing.F) {
	for _, s := range literalCases {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, signed bool) { parseLiteralAgrees(t, s, signed) })
}

// randomLiteral draws a literal that is well formed more often than not,
// from 1 to 22 digits.
func randomLiteral(rng *rand.Rand) string {
	var b strings.Builder
	if rng.IntN(3) == 0 {
		b.WriteByte('-')
	}
	for range 1 + rng.IntN(20) {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	if rng.IntN(2) == 0 {
		b.WriteByte('.')
		for range rng.IntN(4) {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
	}
	if rng.IntN(20) == 0 {
		b.WriteByte("x.-+e "[rng.IntN(6)])
	}
	return b.String()
}

// TestFastPathAgreesWithGeneralPath is the differential test of the
// workers' numbers, the books' account index and the postings checked
// without their events: random journals, with amounts near and past the
// int64 limits, wrong balances, unknown accounts, duplicate ids and
// hostile lines (non-canonical, re-hashed or not), audited with all off,
// with the numbers and the index but every posting's event, and with all
// on, give the same report, finding for finding.
func TestFastPathAgreesWithGeneralPath(t *testing.T) {
	for round := range 40 {
		rng := rand.New(rand.NewPCG(uint64(round), 7))
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		if err := os.WriteFile(path, randomJournal(t, rng, 300+rng.IntN(300)), 0o600); err != nil {
			t.Fatal(err)
		}
		general := auditWithFastNumbers(t, path, false)
		fast := auditWithFastNumbers(t, path, true)
		if !reflect.DeepEqual(general, fast) {
			t.Fatalf("round %d: the reports differ: %s", round, firstDifference(general, fast))
		}
		// The posting reader's numbers with every posting's event, as a
		// run with a read model has them, against none for a posting.
		was := compactPostings
		compactPostings = false
		withEvents := auditWithFastNumbers(t, path, true)
		compactPostings = was
		if !reflect.DeepEqual(withEvents, fast) {
			t.Fatalf("round %d: with and without the postings' events, the reports differ: %s", round, firstDifference(withEvents, fast))
		}
		compactStopsAlike(t, path, rng)
		// The file mapped (above) and read from standard input (below).
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), &FileSource{Path: "-", Stdin: bytes.NewReader(data)}, Options{MaxFindings: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		read := res.Report
		read.ElapsedSecs, read.EventsPerSec, read.Source = 0, 0, fast.Source
		if !reflect.DeepEqual(read, fast) {
			t.Fatalf("round %d: read and mapped, the reports differ: %s", round, firstDifference(read, fast))
		}
		if round == 0 && (general.OK || len(general.Findings) == 0) {
			t.Fatalf("the random journal has no findings: %+v", general)
		}
	}
}

// compactStopsAlike audits path up to a random time, and up to a random
// sequence, with and without the postings' events, and fails t unless
// both stop at the same event with the same report and books.
func compactStopsAlike(t *testing.T, path string, rng *rand.Rand) {
	t.Helper()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, opts := range []Options{
		{UntilTime: at.Add(time.Duration(rng.IntN(600)) * time.Second), MaxFindings: 1 << 20},
		{UntilSeq: uint64(1 + rng.IntN(600)), MaxFindings: 1 << 20},
	} {
		a, b := runCompactAndNot(t, path, opts)
		ab, atot := a.Books.Balances()
		bb, btot := b.Books.Balances()
		if !reflect.DeepEqual(a.Report, b.Report) || !reflect.DeepEqual(ab, bb) || !reflect.DeepEqual(atot, btot) ||
			a.Books.Time() != b.Books.Time() || a.Books.Seq() != b.Books.Seq() {
			t.Fatalf("until %s or %d: with and without the postings' events, the runs differ: %s; books at %d %s, %d %s",
				opts.UntilTime, opts.UntilSeq, firstDifference(a.Report, b.Report), a.Books.Seq(), a.Books.Time(), b.Books.Seq(), b.Books.Time())
		}
	}
}

// firstDifference names the first finding two reports differ in.
func firstDifference(a, b *Report) string {
	for i := range min(len(a.Findings), len(b.Findings)) {
		if a.Findings[i] != b.Findings[i] {
			return fmt.Sprintf("finding %d:\n%s\n%s", i, a.Findings[i], b.Findings[i])
		}
	}
	a.Findings, b.Findings = nil, nil
	return fmt.Sprintf("%+v\n%+v", a, b)
}

func auditWithFastNumbers(t *testing.T, path string, fast bool) *Report {
	t.Helper()
	defer func(was bool) { fastNumbers = was }(fastNumbers)
	fastNumbers = fast
	res, err := Run(context.Background(), &FileSource{Path: path}, Options{MaxFindings: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report
	rep.ElapsedSecs, rep.EventsPerSec = 0, 0
	return rep
}

// randomJournal writes a journal of about n events: two assets (scales 2
// and 0), accounts in each, postings between them with amounts of every
// size (their balances after recomputed, now and then wrong), and some
// lines made hostile.
func randomJournal(t *testing.T, rng *rand.Rand, n int) []byte {
	t.Helper()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var out []byte
	var prev domain.Hash
	seq := uint64(0)
	emit := func(ev *domain.Event) {
		seq++
		ev.Seq, ev.Version, ev.Time, ev.Command = seq, domain.SchemaVersion, at.Add(time.Duration(seq)*time.Second), domain.CommandRef{Seq: seq}
		line, h, err := domain.AppendEvent(nil, ev, prev)
		if err != nil {
			t.Fatal(err)
		}
		if rng.IntN(12) == 0 {
			line, h = hostile(rng, line, prev)
		}
		out, prev = append(out, line...), h
	}
	scales := map[string]int{"USD": 2, "JPY": 0}
	balances := map[string]domain.Amount{}
	var accounts []string
	for _, code := range []string{"USD", "JPY"} {
		emit(&domain.Event{Type: domain.EventAssetDefined, Asset: &domain.Asset{Code: code, Scale: scales[code]}})
		balances[domain.World+"/"+code] = domain.Amount{}
		for i := range 6 {
			id := fmt.Sprintf("%s-%d", strings.ToLower(code), i)
			emit(&domain.Event{Type: domain.EventAccountOpened, Account: &domain.Account{ID: id, Asset: code, OverdraftLimit: domain.Unlimited}})
			balances[id+"/"+code] = domain.Amount{}
			accounts = append(accounts, code+"/"+id)
		}
	}
	for i := 0; int(seq) < n; i++ {
		asset, from, _ := strings.Cut(accounts[rng.IntN(len(accounts))], "/")
		_, to, _ := strings.Cut(accounts[rng.IntN(len(accounts))], "/")
		if rng.IntN(8) != 0 { // mostly within one asset
			to = strings.ToLower(asset) + to[strings.IndexByte(to, '-'):]
		}
		switch rng.IntN(10) {
		case 0:
			from = domain.World
		case 1:
			to = "nobody"
		}
		scale := scales[asset]
		amount := randomAmount(rng, scale)
		a, _ := domain.ParseAmount(amount, scale)
		fromAfter, _ := balances[from+"/"+asset].Sub(a)
		toAfter, _ := balances[to+"/"+asset].Add(a)
		if rng.IntN(15) != 0 { // now and then the journal states them wrong
			balances[from+"/"+asset], balances[to+"/"+asset] = fromAfter, toAfter
		}
		id := fmt.Sprintf("t-%d", i)
		if rng.IntN(25) == 0 {
			id = fmt.Sprintf("t-%d", rng.IntN(i+1)) // posted again
		}
		emit(&domain.Event{Type: domain.EventTransferPosted, Transfer: &domain.PostedTransfer{
			Transfer: domain.Transfer{ID: id, From: from, To: to, Amount: amount, Asset: asset},
			Entries: [2]domain.Entry{{Account: from, Type: domain.Debit, Amount: amount, Balance: fromAfter.Format(scale)},
				{Account: to, Type: domain.Credit, Amount: amount, Balance: toAfter.Format(scale)}}}})
	}
	return out
}

// randomAmount is an amount at scale, from one digit to 22, so that some
// are past what an int64 holds.
func randomAmount(rng *rand.Rand, scale int) string {
	switch rng.IntN(8) {
	case 0:
		return domain.AmountFromInt64(1<<63 - 1 - rng.Int64N(3)).Format(scale)
	case 1:
		big, _ := domain.ParseAmount(strings.Repeat("9", 19+rng.IntN(3)), 0)
		return big.Format(scale)
	}
	digits := 1 + rng.IntN(22)
	var b strings.Builder
	b.WriteByte(byte('1' + rng.IntN(9)))
	for range digits - 1 {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	v, _ := domain.ParseAmount(b.String(), 0)
	return v.Format(scale)
}

// hostileEdits turn a stored posting's bytes into what the ledger never
// writes: other spellings of its numbers, whitespace, a duplicate key, an
// escape.
var hostileEdits = []func(line []byte, rng *rand.Rand) []byte{
	func(l []byte, rng *rand.Rand) []byte {
		return replaceValue(l, `"amount":"`, literalCases[rng.IntN(len(literalCases))])
	},
	func(l []byte, rng *rand.Rand) []byte {
		return replaceValue(l, `"balance":"`, literalCases[rng.IntN(len(literalCases))])
	},
	func(l []byte, rng *rand.Rand) []byte { return replaceValue(l, `"amount":"`, randomLiteral(rng)) },
	func(l []byte, rng *rand.Rand) []byte { return bytes.Replace(l, []byte(`,"to":`), []byte(`, "to":`), 1) },
	func(l []byte, _ *rand.Rand) []byte {
		return bytes.Replace(l, []byte(`{"id":`), []byte(`{"amount":"1","id":`), 1)
	},
	func(l []byte, _ *rand.Rand) []byte {
		return bytes.Replace(l, []byte(`"amount":"1`), []byte(`"amount":"\u0031`), 1)
	},
	func(l []byte, _ *rand.Rand) []byte {
		return bytes.Replace(l, []byte(`"from":"`), []byte(`"from":"x`), 1)
	},
}

// hostile edits line and re-hashes it after prev (most of the time: a
// forger who knows the algorithm), returning it and the hash the next
// line chains to.
func hostile(rng *rand.Rand, line []byte, prev domain.Hash) ([]byte, domain.Hash) {
	body := bytes.TrimSuffix(line, []byte("\n"))
	old := stored(body)
	body = body[:len(body)-hashSuffixLen]
	edited := hostileEdits[rng.IntN(len(hostileEdits))](append(bytes.Clone(body), '}'), rng)
	h := old
	if rng.IntN(4) != 0 {
		h = sha256.Sum256(append(prev[:], edited...))
	}
	out := append(edited[:len(edited)-1], `,"hash":"`...)
	out = append(hex.AppendEncode(out, h[:]), "\"}\n"...)
	return out, h
}

// replaceValue replaces the string value after the first key (`"key":"`)
// with v.
func replaceValue(line []byte, key, v string) []byte {
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return line
	}
	start := i + len(key)
	end := start + bytes.IndexByte(line[start:], '"')
	return append(append(append([]byte(nil), line[:start]...), v...), line[end:]...)
}

// TestMapBlocksAgreesWithReadBlocks: a mapped export is cut into the same
// chunks of the same lines as the read one, long lines refused alike,
// whatever the lines' lengths around the block size. A mapped chunk's
// lines are cut from its body a few at a time, as a worker cuts them, and
// its last line (the next chunk's previous hash) is read alone.
func TestMapBlocksAgreesWithReadBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	inputs := []string{"a\nb\n", "a\nb", "a\n\nb\n", "\n", "x", "\n\n", "a\n\n", "a\n\n\n", strings.Repeat("x", maxLineBytes+10) + "\n",
		strings.Repeat("y", maxLineBytes) + "\n" + strings.Repeat("z", fileBlockBytes-1)}
	for range 12 {
		var b strings.Builder
		for b.Len() < 3*fileBlockBytes {
			b.WriteString(strings.Repeat("l", rng.IntN([]int{100, 5000, 400_000, maxLineBytes + 2}[rng.IntN(4)])))
			b.WriteByte('\n')
		}
		s := b.String()
		inputs = append(inputs, s, s[:len(s)-1], s[:fileBlockBytes], s[:fileBlockBytes+1])
	}
	chunks := func(read func(func(Chunk) error) error) ([]string, error) {
		var out []string
		err := read(func(c Chunk) error {
			if c.body != nil {
				last, ok := lastLine(c.body)
				data := bytes.TrimSuffix(c.body, []byte{'\n'})
				for len(data) > 0 {
					c.Lines, data = cutLines(c.Lines, data, 1+rng.IntN(3))
				}
				if n := len(c.Lines); ok != (n > 0) || ok && !bytes.Equal(last, c.Lines[n-1]) {
					t.Fatalf("the last line %q (%v), where the lines end in %q", last, ok, c.Lines[max(0, n-1):])
				}
			}
			out = append(out, fmt.Sprint(len(c.Lines), string(bytes.Join(c.Lines, []byte{'|'}))))
			return nil
		})
		return out, err
	}
	for i, in := range inputs {
		want, werr := chunks(func(fn func(Chunk) error) error { return readBlocks(context.Background(), strings.NewReader(in), fn) })
		got, gerr := chunks(func(fn func(Chunk) error) error { return mapBlocks(context.Background(), []byte(in), fn) })
		if !reflect.DeepEqual(got, want) || werr != gerr {
			t.Fatalf("input %d (%d bytes): mapped %d chunks, %v; read %d chunks, %v", i, len(in), len(got), gerr, len(want), werr)
		}
	}
}

// TestMappedAgreesWithReadAcrossBlocks: a random journal of several
// blocks, with lines of every length and findings, gives the same report
// mapped (each chunk's lines cut by the worker that checks it, a few at a
// time, into room grown as they are counted) and read from standard input
// (cut by the reader), and so does a prefix of it.
func TestMappedAgreesWithReadAcrossBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 7))
	data := randomJournal(t, rng, 12_000)
	if len(data) < 4*fileBlockBytes {
		t.Fatalf("%d bytes: fewer than four blocks", len(data))
	}
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []Options{{MaxFindings: 1 << 20}, {MaxFindings: 1 << 20, UntilSeq: 9_000}} {
		var reps [2]*Report
		for i, src := range []Source{&FileSource{Path: path}, &FileSource{Path: "-", Stdin: bytes.NewReader(data)}} {
			res, err := Run(context.Background(), src, opts)
			if err != nil {
				t.Fatal(err)
			}
			reps[i] = res.Report
			reps[i].ElapsedSecs, reps[i].EventsPerSec, reps[i].Source = 0, 0, ""
		}
		if reps[0].OK || len(reps[0].Findings) == 0 {
			t.Fatalf("the random journal has no findings: %+v", reps[0])
		}
		if !reflect.DeepEqual(reps[0], reps[1]) {
			t.Fatalf("until %d: mapped and read, the reports differ: %s", opts.UntilSeq, firstDifference(reps[0], reps[1]))
		}
	}
}

// TestRoomExtendKeepsRecords: a room grown as a body's lines are counted
// (room.extend) holds exactly the lines counted, however much room the
// guess of the lines to come makes, and keeps the records and hashes of
// those before.
func TestRoomExtendKeepsRecords(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 200 {
		var r room
		r.size(rng.IntN(100))
		r.size(0)
		for had := 0; had < 3000; {
			n := had + 1 + rng.IntN(70)
			r.extend(n, rng.IntN(n+1))
			if len(r.items) != n || len(r.hashes) != n {
				t.Fatalf("round %d: room for %d lines holds %d records and %d hashes", round, n, len(r.items), len(r.hashes))
			}
			for i := range n {
				if i < had && (r.items[i].seq != uint64(i)+1 || r.hashes[i][0] != byte(i)) {
					t.Fatalf("round %d: line %d of %d lost its record or hash", round, i, n)
				}
				r.items[i].seq, r.hashes[i][0] = uint64(i)+1, byte(i)
			}
			had = n
		}
	}
}

// runCompactAndNot audits the export at path with opts twice, with and
// without the postings' compact records, and returns both results with
// their timings cleared.
func runCompactAndNot(t *testing.T, path string, opts Options) (compact, events *Result) {
	t.Helper()
	var res [2]*Result
	for i, on := range []bool{true, false} {
		was := compactPostings
		compactPostings = on
		r, err := Run(context.Background(), &FileSource{Path: path}, opts)
		compactPostings = was
		if err != nil {
			t.Fatal(err)
		}
		r.Report.ElapsedSecs, r.Report.EventsPerSec = 0, 0
		res[i] = r
	}
	return res[0], res[1]
}

// TestLookaheadCoversPiece: a piece's bytes are prefetched whole, in
// order and a part at a time, by as many calls of next as checkLines
// makes for a piece of cutPieceLines lines (three a pair), whatever its
// length; a chunk's last piece, with nothing after it, prefetches
// nothing.
func TestLookaheadCoversPiece(t *testing.T) {
	data := make([]byte, 600_000)
	// Pieces starting on and around a fault-around window's edges (set
	// reads a byte of each window a piece reaches into: its index is
	// checked), and anywhere.
	base := uintptr(unsafe.Pointer(&data[0]))
	edge := int((base+faultAroundBytes-1)/faultAroundBytes*faultAroundBytes-base) + faultAroundBytes
	for _, from := range []int{0, 1, edge - 1, edge, edge + 1, edge + 12_345} {
		for _, n := range []int{0, 1, 63, 64, 65, 95, 96, 97, 1000, 6143, 6144, 6145, 40_000, 65_535, 65_536, 65_537, 300_000} {
			lookaheadCovers(t, data[from:from+n])
		}
	}
}

// lookaheadCovers checks that a piece set in a lookahead is prefetched
// whole, a part at a time, in order, in lookaheadParts calls of next.
func lookaheadCovers(t *testing.T, data []byte) {
	t.Helper()
	n := len(data)
	var l lookahead
	l.set(data)
	at := 0
	for range lookaheadParts {
		before := len(l.rest)
		l.next()
		done := before - len(l.rest)
		if done < 0 || before > 0 && (done == 0 || done > l.step) || l.step%64 != 0 {
			t.Fatalf("%d bytes: a part of %d of %d left, step %d", n, done, before, l.step)
		}
		if at += done; len(l.rest) > 0 && &l.rest[0] != &data[at] {
			t.Fatalf("%d bytes: the part after %d bytes starts elsewhere", n, at)
		}
	}
	if at != n || len(l.rest) != 0 {
		t.Fatalf("%d bytes: %d prefetched by %d parts, %d left", n, at, lookaheadParts, len(l.rest))
	}
}
