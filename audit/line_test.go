package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/nats-ledger/ledger/domain"
)

// testLines encodes a few events the way the journal stores them.
func testLines(t *testing.T) [][]byte {
	t.Helper()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	events := []*domain.Event{
		{Seq: 1, Type: domain.EventAssetDefined, Version: 1, Time: at, Asset: &domain.Asset{Code: "USD", Scale: 2}},
		{Seq: 2, Type: domain.EventAccountOpened, Version: 1, Time: at, Account: &domain.Account{ID: "a", Asset: "USD", OverdraftLimit: "0.00"}},
		{Seq: 3, Type: domain.EventTransferPosted, Version: 1, Time: at, Transfer: &domain.PostedTransfer{
			Transfer: domain.Transfer{ID: "t", From: "world", To: "a", Amount: "1.00", Asset: "USD"},
			Entries: [2]domain.Entry{{Account: "world", Type: "debit", Amount: "1.00", Balance: "-1.00"},
				{Account: "a", Type: "credit", Amount: "1.00", Balance: "1.00"}}}},
	}
	var data []byte
	var prev domain.Hash
	for _, ev := range events {
		var err error
		if data, prev, err = domain.AppendEvent(data, ev, prev); err != nil {
			t.Fatal(err)
		}
	}
	return splitLines(data)
}

// stored is the hash line stores, zero when it has none
// (domain.StoredHash).
func stored(line []byte) domain.Hash {
	h, _ := domain.StoredHash(line)
	return h
}

// hashSuffixLen is len(`,"hash":"` + 64 hex digits + `"}`), as stored.
const hashSuffixLen = 9 + 2*domain.HashSize + 2

// TestStoredHashAgreesWithVerifyLine: the reader takes the hash a chunk
// ends with by domain.StoredHash, the workers by VerifyLine; they must agree on
// every line, or chunk boundaries would break the chain.
func TestStoredHashAgreesWithVerifyLine(t *testing.T) {
	lines := testLines(t)
	good := lines[2]
	upper := bytes.Clone(good)
	copy(upper[len(upper)-66:], bytes.ToUpper(upper[len(upper)-66:len(upper)-2]))
	altered := bytes.Replace(good, []byte(`"1.00"`), []byte(`"2.00"`), 1)
	cases := map[string][]byte{
		"good":        good,
		"altered":     altered,
		"upper hex":   upper,
		"no suffix":   good[:len(good)-10],
		"not json":    append([]byte("xx"), good[2:]...),
		"short":       []byte("{}"),
		"bad hex":     append(bytes.Clone(good[:len(good)-4]), 'z', 'z', '"', '}'),
		"other field": bytes.Replace(good, []byte(`,"hash":"`), []byte(`,"hosh":"`), 1),
	}
	for name, line := range cases {
		h, _ := domain.VerifyLine(line, stored(lines[1]))
		if got := stored(line); got != h {
			t.Errorf("%s: StoredHash %s, VerifyLine %s", name, got, h)
		}
	}
}

// newChecker is a worker's checker for a test's lines, with compact
// postings or without.
func newChecker(seeds *[2]maphash.Seed, compact bool) *checker {
	c := makeChecker(seeds, compact, &room{})
	return &c
}

// schemaErrOf is a line's schema error (none for a compact posting).
func schemaErrOf(r *lineResult) error {
	if r.x == nil {
		return nil
	}
	return r.x.schemaErr
}

func TestCheckLineLinks(t *testing.T) {
	lines := testLines(t)
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	var r lineResult
	c := newChecker(&seeds, false)
	checkLine(c, lines[2], stored(lines[1]), &r, nil)
	if r.link != linkOK || r.x.schemaErr != nil || !r.nums.ok || r.nums.places != [3]int8{2, 2, 2} {
		t.Fatalf("good line: %+v", r)
	}
	checkLine(c, lines[2], stored(lines[0]), &r, nil)
	if r.link != linkElsewhere {
		t.Fatalf("line after the wrong one: %v", r.link)
	}
	checkLine(c, bytes.Replace(lines[2], []byte(`"1.00"`), []byte(`"2.00"`), 1), stored(lines[1]), &r, nil)
	if r.link != linkAltered {
		t.Fatalf("altered line: %v", r.link)
	}
	checkLine(c, lines[2][:40], stored(lines[1]), &r, nil)
	if r.link != linkUnreadable || r.x.decodeErr == nil {
		t.Fatalf("cut line: %v %v", r.link, r.x.decodeErr)
	}
}

func TestCheckSchema(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	posted := func(edit func(*domain.PostedTransfer)) *domain.Event {
		p := &domain.PostedTransfer{Transfer: domain.Transfer{ID: "t", From: "a", To: "b", Amount: "1.00", Asset: "USD"},
			Entries: [2]domain.Entry{{Account: "a", Type: "debit", Amount: "1.00", Balance: "0.00"},
				{Account: "b", Type: "credit", Amount: "1.00", Balance: "1.00"}}}
		if edit != nil {
			edit(p)
		}
		return &domain.Event{Seq: 3, Type: domain.EventTransferPosted, Version: 1, Time: at, Transfer: p}
	}
	rejected := &domain.Event{Seq: 3, Type: domain.EventTransferRejected, Version: 1, Time: at,
		Rejection: &domain.RejectedTransfer{Transfer: domain.Transfer{ID: "t", From: "a", To: "b", Amount: "1"}, Code: domain.CodeInsufficientFunds, Detail: "no"}}
	if err := checkSchema(posted(nil)); err != nil {
		t.Fatalf("good posting: %v", err)
	}
	if err := checkSchema(rejected); err != nil {
		t.Fatalf("good rejection: %v", err)
	}
	bad := map[string]*domain.Event{
		"version":        {Seq: 1, Type: domain.EventAssetDefined, Version: 2, Time: at, Asset: &domain.Asset{Code: "USD", Scale: 2}},
		"no time":        {Seq: 1, Type: domain.EventAssetDefined, Version: 1, Asset: &domain.Asset{Code: "USD", Scale: 2}},
		"two payloads":   {Seq: 1, Type: domain.EventAssetDefined, Version: 1, Time: at, Asset: &domain.Asset{Code: "USD", Scale: 2}, Account: &domain.Account{ID: "a", Asset: "USD"}},
		"wrong payload":  {Seq: 1, Type: domain.EventAccountOpened, Version: 1, Time: at, Asset: &domain.Asset{Code: "USD", Scale: 2}},
		"unknown type":   {Seq: 1, Type: "AssetBurned", Version: 1, Time: at, Asset: &domain.Asset{Code: "USD", Scale: 2}},
		"bad asset":      {Seq: 1, Type: domain.EventAssetDefined, Version: 1, Time: at, Asset: &domain.Asset{Code: "usd", Scale: 2}},
		"bad account":    {Seq: 1, Type: domain.EventAccountOpened, Version: 1, Time: at, Account: &domain.Account{ID: "world", Asset: "USD"}},
		"no asset":       posted(func(p *domain.PostedTransfer) { p.Asset = "" }),
		"debit mismatch": posted(func(p *domain.PostedTransfer) { p.Entries[0].Amount = "2.00" }),
		"credit account": posted(func(p *domain.PostedTransfer) { p.Entries[1].Account = "c" }),
		"entry type":     posted(func(p *domain.PostedTransfer) { p.Entries[0].Type = "credit" }),
		"self transfer":  posted(func(p *domain.PostedTransfer) { p.To, p.Entries[1].Account = "a", "a" }),
		"unknown code": {Seq: 3, Type: domain.EventTransferRejected, Version: 1, Time: at,
			Rejection: &domain.RejectedTransfer{Transfer: rejected.Rejection.Transfer, Code: "bad_luck", Detail: "no"}},
	}
	for name, ev := range bad {
		if err := checkSchema(ev); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPipelineStops checks that an error from consume stops the reader
// and the workers and is returned, over many chunks.
func TestPipelineStops(t *testing.T) {
	var data []byte
	lines := testLines(t)
	for len(data) < 5*fileBlockBytes {
		for _, l := range lines {
			data = append(append(data, l...), '\n')
		}
	}
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	stop := errors.New("enough")
	chunks := 0
	err := pipeline(context.Background(), &FileSource{Path: "-", Stdin: bytes.NewReader(data)}, 1, 4, &seeds, false, false, func(b *batch) error {
		if chunks++; chunks == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || chunks != 2 {
		t.Fatalf("pipeline: %v after %d chunks", err, chunks)
	}
	// Every line of every chunk is checked against the line before it,
	// across chunk boundaries: a journal that repeats three lines breaks
	// the chain at each repetition's first line only.
	links := map[link]int{}
	n := 0
	err = pipeline(context.Background(), &FileSource{Path: "-", Stdin: bytes.NewReader(data)}, 1, 4, &seeds, false, false, func(b *batch) error {
		for i := range b.items {
			links[b.items[i].link]++
			n++
		}
		return nil
	})
	if err != nil || n != bytes.Count(data, []byte{'\n'}) || links[linkElsewhere] != n/3-1 || links[linkOK] != n-n/3+1 {
		t.Fatalf("pipeline over %d lines: %v, links %v", n, err, links)
	}
}

func TestReadBlocks(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a\nb\n", []string{"a", "b"}},
		{"a\nb", []string{"a", "b"}},
		{"a\n\nb\n", []string{"a", "", "b"}},
		{"", nil},
	} {
		var got []string
		err := readBlocks(context.Background(), strings.NewReader(tc.in), func(c Chunk) error {
			for _, l := range c.Lines {
				got = append(got, string(l))
			}
			return nil
		})
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %q %v", tc.in, got, err)
		}
	}
	long := strings.Repeat("x", maxLineBytes+10) + "\n"
	if err := readBlocks(context.Background(), strings.NewReader(long), func(Chunk) error { return nil }); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("long line: %v", err)
	}
	if n, ok := LineSeq([]byte(`{"seq":42,"type":"x"}`)); !ok || n != 42 {
		t.Fatalf("LineSeq: %d %v", n, ok)
	}
	if _, ok := LineSeq([]byte(`{"type":"x","seq":42}`)); ok {
		t.Fatal("LineSeq read a line that does not start with seq")
	}
}

// TestCompactPostingsTakeNoEvent: in a run without a read model or
// OnChunk, a posting the posting reader takes is its record alone, no
// event built and no room taken for one; every other line has its event.
// The record stays within 160 bytes, two and a half cache lines.
func TestCompactPostingsTakeNoEvent(t *testing.T) {
	if size := unsafe.Sizeof(lineResult{}); size > 160 {
		t.Fatalf("a line's record takes %d bytes", size)
	}
	lines := testLines(t)
	data := append(bytes.Join(lines, []byte{'\n'}), '\n')
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	for _, compact := range []bool{false, true} {
		postings, events := 0, 0
		err := pipeline(context.Background(), &FileSource{Path: "-", Stdin: bytes.NewReader(data)}, 1, 2, &seeds, true, compact, func(b *batch) error {
			for i := range b.items {
				r := &b.items[i]
				if r.posting {
					postings++
				}
				if r.x != nil {
					events++
				}
				if r.posting && compact != (r.x == nil) || !r.posting && r.x == nil {
					t.Fatalf("compact %v: line %d (posting %v) has event %v", compact, i, r.posting, r.x != nil)
				}
			}
			if b.used != events {
				t.Fatalf("compact %v: %d lines with events took room for %d", compact, events, b.used)
			}
			return nil
		})
		if err != nil || postings == 0 || compact && events != len(lines)-postings || !compact && events != len(lines) {
			t.Fatalf("compact %v: %v; %d lines, %d postings, %d events", compact, err, len(lines), postings, events)
		}
	}
}
