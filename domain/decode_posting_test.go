package domain_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// postingBody is a posting in the canonical encoding without its hash,
// chained to the genesis, for the posting reader's tests to change.
const postingBody = `{"seq":4,"type":"TransferPosted","v":1,"command":{"seq":3,"item":1},"time":"2026-03-01T09:30:00.123456789Z",` +
	`"transfer":{"id":"t-1","from":"world","to":"alice","amount":"100.00","asset":"USD","reference":"invoice 7","metadata":{"order":"o:1"},` +
	`"entries":[{"account":"world","type":"debit","amount":"100.00","balance":"-100.00"},{"account":"alice","type":"credit","amount":"100.00","balance":"100.00"}]},` +
	`"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000"}`

// checkPostingReader prepares line with and without the posting reader
// and fails t unless both agree in everything (the hash, the error, the
// view, the event), and, where the posting reader took the line, unless
// the general checks accept what it promises (domain.Line.Posting): the
// event's schema and payload rules, its canonical form (encoded again)
// and the numbers it parsed. It reports whether the posting reader took
// the line.
func checkPostingReader(t *testing.T, line []byte, prev domain.Hash) bool {
	t.Helper()
	var fast domain.Line
	return checkPostingReaderAfter(t, &fast, line, prev)
}

// checkPostingReaderAfter is checkPostingReader with fast, a Line that
// may have read other lines before (and kept what the posting reader
// keeps of them), and PostingView's fields checked against the event's
// too.
func checkPostingReaderAfter(t *testing.T, fast *domain.Line, line []byte, prev domain.Hash) bool {
	t.Helper()
	var general domain.Line
	h1, err1 := fast.Prepare(line, prev)
	h2, err2 := general.PrepareGeneral(line, prev)
	if h1 != h2 || fmt.Sprint(err1) != fmt.Sprint(err2) {
		t.Fatalf("Prepare = %s, %v; without the posting reader %s, %v; for %q", h1, err1, h2, err2, line)
	}
	var b1, b2 domain.EventBuffer
	ev, everr := fast.View(&b1)
	gev, gerr := general.View(&b2)
	if fmt.Sprint(everr) != fmt.Sprint(gerr) || !reflect.DeepEqual(ev, gev) {
		t.Fatalf("View = %+v, %v; without the posting reader %+v, %v; for %q", ev, everr, gev, gerr, line)
	}
	n, ok := fast.Posting()
	if !ok {
		return false
	}
	if err1 != nil || everr != nil || !domain.SameView(fast, &general) {
		t.Fatalf("the posting reader took %q (%v, %v) but read it otherwise than the general reader", line, err1, everr)
	}
	if ev.Type != domain.EventTransferPosted || ev.Version != domain.SchemaVersion || ev.Seq == 0 || ev.Time.IsZero() || ev.Payloads() != 1 {
		t.Fatalf("the posting reader took %q: %+v", line, ev)
	}
	if err := ev.ValidatePayload(); err != nil {
		t.Fatalf("the posting reader took %q, which breaks its payload's rules: %v", line, err)
	}
	if _, err := domain.CheckCanonical(line, ev, nil); err != nil {
		t.Fatalf("the posting reader took %q, which is not canonical: %v", line, err)
	}
	if _, err := general.Canonical(gev, nil); err != nil {
		t.Fatalf("the posting reader took %q, which Line.Canonical refuses: %v", line, err)
	}
	var pv domain.PostingView
	if !fast.PostingView(&pv) || pv.Seq != ev.Seq || pv.Command != ev.Command ||
		!time.Unix(pv.Unix, int64(pv.Nanos)).UTC().Equal(ev.Time) || pv.Asset != ev.Transfer.Asset || pv.Reference != ev.Transfer.Reference {
		t.Fatalf("the posting reader's view of %q is %+v; the event %+v", line, pv, ev)
	}
	p := ev.Transfer
	for i, lit := range []string{p.Amount, p.Entries[0].Balance, p.Entries[1].Balance} {
		places := 0
		if dot := strings.IndexByte(lit, '.'); dot >= 0 {
			places = len(lit) - dot - 1
		}
		var want domain.Amount
		var err error
		if i == 0 {
			want, err = domain.ParseAmount(lit, places)
		} else {
			want, err = domain.ParseBalance(lit, places)
		}
		got := [3]domain.Amount{n.Amount, n.Debit, n.Credit}[i]
		if err != nil || got != want || n.Places[i] != places {
			t.Fatalf("the posting reader read %q as %v at %d places; the domain reads %v, %v", lit, got.Format(n.Places[i]), n.Places[i], want, err)
		}
	}
	return true
}

// postingCase is postingBody with old replaced by new (every time with
// all), and whether the posting reader takes it.
type postingCase struct {
	name, old, new string
	all, taken     bool
}

var postingCases = []postingCase{
	{name: "as written", taken: true},
	{name: "no reference, no metadata", old: `,"reference":"invoice 7","metadata":{"order":"o:1"}`, taken: true},
	{name: "whole second", old: `00.123456789Z`, new: `00Z`, taken: true},
	{name: "one fraction digit", old: `00.123456789Z`, new: `00.1Z`, taken: true},
	{name: "leap day", old: `2026-03-01`, new: `2024-02-29`, taken: true},
	{name: "year 2", old: `2026-03-01`, new: `0002-01-01`, taken: true},
	{name: "id of 64", old: `"t-1"`, new: `"` + strings.Repeat("a", 64) + `"`, taken: true},
	{name: "id of every kind of character", old: `"t-1"`, new: `"azAZ09_-.:"`, taken: true},
	{name: "id of dots", old: `"t-1"`, new: `"..."`, taken: true},
	{name: "reference of 512", old: `invoice 7`, new: strings.Repeat("r", 512), taken: true},
	{name: "reference of 512 runes", old: `invoice 7`, new: strings.Repeat("é", 512), taken: true},
	{name: "reference with a quote's neighbours", old: `invoice 7`, new: `!#$%'()*+,/;=?@[]^{|}~`, taken: true},
	{name: "metadata key of 64, value of 512", old: `"order":"o:1"`, new: `"` + strings.Repeat("k", 64) + `":"` + strings.Repeat("v", 512) + `"`, taken: true},
	{name: "32 metadata keys", old: `"order":"o:1"`, new: metadataOf(32), taken: true},
	{name: "asset of 16", old: `"USD"`, new: `"ABCDEFGHIJKLMN_9"`, taken: true},
	{name: "18 digits", old: `100.00`, new: `9999999999999999.99`, all: true, taken: true},
	{name: "a balance of minus zero", old: `"balance":"-100.00"`, new: `"balance":"-0"`, taken: true},
	{name: "no fraction", old: `100.00`, new: `7`, all: true, taken: true},
	{name: "id of 31", old: `"t-1"`, new: `"` + strings.Repeat("a", 31) + `"`, taken: true},
	{name: "id of 32", old: `"t-1"`, new: `"` + strings.Repeat("a", 32) + `"`, taken: true},
	{name: "id of 33", old: `"t-1"`, new: `"` + strings.Repeat("a", 33) + `"`, taken: true},
	{name: "to of 31", old: `"alice"`, new: `"` + strings.Repeat("b", 31) + `"`, all: true, taken: true},
	{name: "to of 32", old: `"alice"`, new: `"` + strings.Repeat("b", 32) + `"`, all: true, taken: true},
	{name: "reference of 7, 8 and 9 bytes", old: `invoice 7`, new: `invoice`, taken: true},
	{name: "reference of 8", old: `invoice 7`, new: `invoice7`, taken: true},
	{name: "reference of 16 then tilde", old: `invoice 7`, new: `0123456789abcde~`, taken: true},

	{name: "whitespace", old: `"seq":4`, new: `"seq": 4`},
	{name: "whitespace at the end", old: `000"}`, new: `000" }`},
	{name: "escaped id", old: `"t-1"`, new: `"t\u002d1"`, all: true},
	{name: "escaped reference", old: `invoice 7`, new: `invoice \"7\"`},
	{name: "duplicate id", old: `"id":"t-1"`, new: `"id":"t-1","id":"t-2"`},
	{name: "duplicate amount", old: `"amount":"100.00","asset"`, new: `"amount":"100.00","amount":"100.00","asset"`},
	{name: "exponent", old: `100.00`, new: `1e2`, all: true},
	{name: "plus sign", old: `"amount":"100.00","asset"`, new: `"amount":"+100.00","asset"`},
	{name: "leading zero", old: `100.00`, new: `0100.00`, all: true},
	{name: "no digit after the point", old: `100.00`, new: `100.`, all: true},
	{name: "no digit before the point", old: `100.00`, new: `.5`, all: true},
	{name: "19 digits", old: `100.00`, new: `99999999999999999.99`, all: true},
	{name: "a negative amount", old: `100.00`, new: `-100.00`, all: true},
	{name: "amount zero", old: `100.00`, new: `0.00`, all: true},
	{name: "a memo", old: `100.00`, new: `0.00`, all: true},
	{name: "a memo of something", old: `"metadata":{"order":"o:1"}`, new: `"metadata":{"order":"o:1"},"memo":true`},
	{name: "trailing zero in the time", old: `.123456789Z`, new: `.12Z"`},
	{name: "trailing zero fraction", old: `.123456789Z`, new: `.120Z`},
	{name: "ten fraction digits", old: `.123456789Z`, new: `.1234567891Z`},
	{name: "an offset", old: `.123456789Z`, new: `+00:00`},
	{name: "February 30", old: `2026-03-01`, new: `2026-02-29`},
	{name: "hour 24", old: `T09:30`, new: `T24:30`},
	{name: "year 1", old: `2026-03-01T09:30:00.123456789Z`, new: `0001-01-01T00:00:00Z`},
	{name: "invalid UTF-8", old: `invoice 7`, new: "invoice \xff"},
	{name: "DEL", old: `invoice 7`, new: "invoice \x7f"},
	{name: "DEL first", old: `invoice 7`, new: "\x7finvoice 7"},
	{name: "DEL at 8", old: `invoice 7`, new: "invoice7\x7f"},
	{name: "DEL at 20", old: `invoice 7`, new: "invoice 7 and 8 and\x7f9"},
	{name: "id with a space", old: `"t-1"`, new: `"` + strings.Repeat("a", 20) + ` a"`},
	{name: "from empty", old: `"from":"world"`, new: `"from":""`},
	{name: "to empty", old: `"to":"alice"`, new: `"to":""`},
	{name: "a C1 control", old: `invoice 7`, new: "invoice \u0085"},
	{name: "line separator", old: `invoice 7`, new: "invoice \u2028"},
	{name: "an HTML character", old: `invoice 7`, new: "invoice <7>"},
	{name: "reference of 513", old: `invoice 7`, new: strings.Repeat("r", 513)},
	{name: "reference of 513 runes", old: `invoice 7`, new: strings.Repeat("é", 513)},
	{name: "empty reference", old: `invoice 7`, new: ``},
	{name: "id of 65", old: `"t-1"`, new: `"` + strings.Repeat("a", 65) + `"`},
	{name: "empty id", old: `"t-1"`, new: `""`},
	{name: "id with a slash", old: `"t-1"`, new: `"t/1"`},
	{name: "id not ASCII", old: `"t-1"`, new: `"t-é"`},
	{name: "asset in lower case", old: `"USD"`, new: `"usd"`},
	{name: "asset of 17", old: `"USD"`, new: `"ABCDEFGHIJKLMNOPQ"`},
	{name: "asset from a digit", old: `"USD"`, new: `"1USD"`},
	{name: "empty asset", old: `"USD"`, new: `""`},
	{name: "no asset", old: `,"asset":"USD"`},
	{name: "33 metadata keys", old: `"order":"o:1"`, new: metadataOf(33)},
	{name: "metadata key of 65", old: `"order"`, new: `"` + strings.Repeat("k", 65) + `"`},
	{name: "metadata value of 513", old: `"o:1"`, new: `"` + strings.Repeat("v", 513) + `"`},
	{name: "empty metadata key", old: `"order"`, new: `""`},
	{name: "metadata out of order", old: `"order":"o:1"`, new: `"z":"1","a":"2"`},
	{name: "empty metadata", old: `"order":"o:1"`},
	{name: "metadata value with DEL", old: `"o:1"`, new: "\"o\x7f\""},
	{name: "debit of another account", old: `{"account":"world"`, new: `{"account":"worle"`},
	{name: "two debits", old: `"type":"credit"`, new: `"type":"debit"`},
	{name: "entry of another spelling", old: `"type":"debit","amount":"100.00"`, new: `"type":"debit","amount":"100.0"`},
	{name: "empty balance", old: `"balance":"100.00"`, new: `"balance":""`},
	{name: "balance with an exponent", old: `"balance":"100.00"`, new: `"balance":"1e2"`},
	{name: "from is to", old: `"to":"alice"`, new: `"to":"world"`},
	{name: "sequence 0", old: `"seq":4`, new: `"seq":0`},
	{name: "sequence with a leading zero", old: `"seq":4`, new: `"seq":04`},
	{name: "version 2", old: `"v":1`, new: `"v":2`},
	{name: "item with a leading zero", old: `"item":1`, new: `"item":01`},
	{name: "another prev_hash", old: `"prev_hash":"0`, new: `"prev_hash":"1`},
	{name: "a pending transfer", old: `,"entries"`, new: `,"pending":true,"entries"`},
	{name: "an exchange rate", old: `,"entries"`, new: `,"exchange_rate":"1.1","entries"`},
	{name: "a reversal", old: `,"entries"`, new: `,"reverses":"t-0","entries"`},
	{name: "a rejection", old: `"TransferPosted"`, new: `"TransferRejected"`},
}

func metadataOf(n int) string {
	kv := make([]string, n)
	for i := range kv {
		kv[i] = fmt.Sprintf(`"k%02d":"v"`, i)
	}
	return strings.Join(kv, ",")
}

func (c postingCase) body() []byte {
	if c.old == "" {
		return []byte(postingBody)
	}
	n := 1
	if c.all {
		n = -1
	}
	if !strings.Contains(postingBody, c.old) {
		panic("postingCase " + c.name + ": no " + c.old)
	}
	return []byte(strings.Replace(postingBody, c.old, c.new, n))
}

// TestPostingReaderAgrees: the posting reader takes the common postings,
// at every field's bounds, and leaves every other line to the general
// reader, and both read every line alike (checkPostingReader).
func TestPostingReaderAgrees(t *testing.T) {
	for _, c := range postingCases {
		t.Run(c.name, func(t *testing.T) {
			if got := checkPostingReader(t, storedLine(c.body()), domain.Hash{}); got != c.taken {
				t.Fatalf("the posting reader took the line: %v, want %v", got, c.taken)
			}
		})
	}
	lines, hashes := canonicalLines(t)
	taken := 0
	for i, l := range lines {
		var prev domain.Hash
		if i > 0 {
			prev = hashes[i-1]
		}
		if checkPostingReader(t, l, prev) {
			taken++
		}
	}
	if taken == 0 {
		t.Fatal("the posting reader took none of the canonical lines")
	}
}

// FuzzPostingReader is the posting reader's differential test: on any
// line, chained to the genesis and hashed so that the reading is reached,
// it agrees with the general reader, and what it takes the general
// checks accept (checkPostingReader).
func FuzzPostingReader(f *testing.F) {
	for _, c := range postingCases {
		f.Add(c.body())
	}
	f.Fuzz(func(t *testing.T, c []byte) {
		if len(c) < 2 || c[len(c)-1] != '}' {
			return
		}
		checkPostingReader(t, storedLine(c), domain.Hash{})
	})
}

// TestPostingReaderLiterals: each of a posting's three amount literals
// (the amount, repeated in the entries, and each balance), read by the
// assembly where the reader finds it and by literalAt where that call
// refuses or may run past its 16 bytes, set alone to shapes of every
// kind, the general reader's agreement checked (checkPostingReader).
func TestPostingReaderLiterals(t *testing.T) {
	shapes := []string{"0", "7", "0.88", "1000000003.27", "999999999999999", "9999999999999999.99",
		"123456789012345.5", "1234567890123456", "99999999999999999.99", "05", "5.", ".5", "-", "", "1e2",
		"-0.5", "-1000000003.27", "-9999999999999999.99", "--1", "1.2.3", "1 ", `1\"`}
	// What the reader takes: the others are refused, or 19 digits.
	taken := map[string]bool{"7": true, "0.88": true, "1000000003.27": true, "999999999999999": true,
		"9999999999999999.99": true, "123456789012345.5": true, "1234567890123456": true}
	balances := map[string]bool{"0": true, "-0.5": true, "-1000000003.27": true, "-9999999999999999.99": true}
	fields := []struct{ old, new string }{
		{`"amount":"100.00","asset"`, `"amount":"%s","asset"`},
		{`"amount":"100.00","balance":"-100.00"`, `"amount":"100.00","balance":"%s"`},
		{`"credit","amount":"100.00","balance":"100.00"`, `"credit","amount":"100.00","balance":"%s"`},
	}
	for _, f := range fields {
		for _, s := range shapes {
			body := strings.Replace(postingBody, f.old, fmt.Sprintf(f.new, s), 1)
			if f.old == fields[0].old { // the entries repeat the amount
				body = strings.ReplaceAll(body, `"type":"debit","amount":"100.00"`, `"type":"debit","amount":"`+s+`"`)
				body = strings.ReplaceAll(body, `"type":"credit","amount":"100.00"`, `"type":"credit","amount":"`+s+`"`)
			}
			took := checkPostingReader(t, storedLine([]byte(body)), domain.Hash{})
			want := taken[s]
			if f.old != fields[0].old { // a balance: zero and negatives too
				want = want || balances[s]
			}
			if took != want {
				t.Fatalf("%s as %q: the posting reader took the line: %v, want %v", f.new, s, took, want)
			}
		}
	}
}

// TestPostingReaderSameAccounts: a posting whose from and to have 1 to
// 20 characters (either side of sameAccounts' 15, its word compare's
// bound), equal or differing in one character anywhere, or in length,
// is read as the general reader reads it, and taken exactly when they
// differ.
func TestPostingReaderSameAccounts(t *testing.T) {
	for n := 1; n <= 20; n++ {
		from := strings.Repeat("a", n)
		tos := []string{from, from + "a", from[:n-1]}
		for k := range n {
			tos = append(tos, from[:k]+"b"+from[k+1:])
		}
		for _, to := range tos {
			if to == "" {
				continue
			}
			body := strings.ReplaceAll(strings.ReplaceAll(postingBody, `"world"`, `"`+from+`"`), `"alice"`, `"`+to+`"`)
			if taken := checkPostingReader(t, storedLine([]byte(body)), domain.Hash{}); taken != (from != to) {
				t.Fatalf("from %q, to %q: taken %v", from, to, taken)
			}
		}
	}
}
