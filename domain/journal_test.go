package domain_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// journalEvents returns the events of a small ledger covering every event
// type, metadata, and characters that encoding/json escapes.
func journalEvents(t testing.TB) []*domain.Event {
	t.Helper()
	h := fixture(t)
	h.must(h.transfer(domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "5",
		Reference: "<rent> & \"quotes\" \u00e9\u4e16", Metadata: map[string]string{"z": "1", "a": "2"}}), domain.Posted)
	h.transfer(domain.Transfer{ID: "t2", From: "alice", To: "bob", Amount: "500"})
	h.must(h.open(domain.Account{ID: "carol", Asset: "BTC", Owner: "c", Metadata: map[string]string{"tier": "gold"}}), domain.Created)
	h.must(h.transfer(domain.Transfer{ID: "t3", From: domain.World, To: "carol", Amount: "0.00000001"}), domain.Posted)
	return h.events
}

// writeJournal encodes events as one record and returns it with each
// event's hash.
func writeJournal(t testing.TB, events []*domain.Event) ([]byte, []domain.Hash) {
	t.Helper()
	var record []byte
	var prev domain.Hash
	hashes := make([]domain.Hash, 0, len(events))
	for _, ev := range events {
		var err error
		before := len(record)
		record, prev, err = domain.AppendEvent(record, ev, prev)
		if err != nil {
			t.Fatalf("AppendEvent(%d): %v", ev.Seq, err)
		}
		if !bytes.HasSuffix(record, []byte("}\n")) || bytes.IndexByte(record[before:len(record)-1], '\n') >= 0 {
			t.Fatalf("event %d is not one line: %q", ev.Seq, record[before:])
		}
		hashes = append(hashes, prev)
	}
	return record, hashes
}

// verifyChain checks lines in order and returns the index of the first
// failure and its error, or -1.
func verifyChain(lines [][]byte) (int, error) {
	var prev domain.Hash
	for i, l := range lines {
		h, err := domain.VerifyLine(l, prev)
		if err != nil {
			return i, err
		}
		prev = h
	}
	return -1, nil
}

func TestJournalRoundTrip(t *testing.T) {
	events := journalEvents(t)
	record, hashes := writeJournal(t, events)
	lines, err := domain.SplitRecord(record)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(events) {
		t.Fatalf("%d lines for %d events", len(lines), len(events))
	}
	var prev domain.Hash
	rebuilt := domain.NewState()
	for i, line := range lines {
		ev := events[i]
		if ev.PrevHash != prev.String() || ev.Hash != hashes[i].String() {
			t.Fatalf("event %d: AppendEvent left prev %s hash %s", ev.Seq, ev.PrevHash, ev.Hash)
		}
		h, err := domain.VerifyLine(line, prev)
		if err != nil {
			t.Fatalf("VerifyLine(%d): %v", ev.Seq, err)
		}
		if h != hashes[i] {
			t.Fatalf("VerifyLine(%d) = %s, AppendEvent said %s", ev.Seq, h, hashes[i])
		}

		// The hash, recomputed here from the documented rule rather than
		// through the package, so that the rule and the code cannot drift
		// apart together.
		plain := *ev
		plain.Hash = ""
		canonical, err := json.Marshal(&plain)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(append(append([]byte{}, prev[:]...), canonical...))
		wantLine := string(canonical[:len(canonical)-1]) + `,"hash":"` + hex.EncodeToString(sum[:]) + `"}`
		if string(line) != wantLine {
			t.Fatalf("event %d line\n got %s\nwant %s", ev.Seq, line, wantLine)
		}

		dec, err := domain.DecodeEvent(line)
		if err != nil {
			t.Fatalf("DecodeEvent(%d): %v", ev.Seq, err)
		}
		if dec.Hash != ev.Hash || dec.PrevHash != ev.PrevHash || dec.Seq != ev.Seq || dec.Type != ev.Type || !dec.Time.Equal(ev.Time) {
			t.Fatalf("decoded header %+v differs from %+v", dec, ev)
		}
		again, h2, err := domain.AppendEvent(nil, dec, prev)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(line)+"\n" || h2 != h {
			t.Fatalf("event %d re-encodes differently\n got %s\nwant %s", ev.Seq, again, line)
		}
		if err := rebuilt.Apply(dec); err != nil {
			t.Fatalf("Apply(decoded %d): %v", ev.Seq, err)
		}
		prev = h
	}
	if events[0].PrevHash != strings.Repeat("0", 64) {
		t.Fatalf("first prev_hash %s, want 64 zeros", events[0].PrevHash)
	}
	if rebuilt.Seq() != uint64(len(events)) {
		t.Fatalf("rebuilt state at %d", rebuilt.Seq())
	}
}

func TestAppendEventKeepsPrefix(t *testing.T) {
	ev := journalEvents(t)[0]
	out, _, err := domain.AppendEvent([]byte("prefix\n"), ev, domain.Hash{1})
	if err != nil {
		t.Fatal(err)
	}
	lines, err := domain.SplitRecord(out)
	if err != nil || len(lines) != 2 || string(lines[0]) != "prefix" {
		t.Fatalf("SplitRecord = %q, %v", lines, err)
	}
	if _, err := domain.VerifyLine(lines[1], domain.Hash{1}); err != nil {
		t.Fatal(err)
	}
}

func TestAppendEventUnencodable(t *testing.T) {
	ev := *journalEvents(t)[0]
	ev.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // outside RFC 3339
	out, _, err := domain.AppendEvent([]byte("x"), &ev, domain.Hash{})
	if err == nil {
		t.Fatal("AppendEvent accepted a time it cannot encode")
	}
	if string(out) != "x" {
		t.Fatalf("a failed append changed dst to %q", out)
	}
}

func TestJournalTamper(t *testing.T) {
	events := journalEvents(t)
	record, _ := writeJournal(t, events)
	// The first posted transfer after the fixture's seed mint, with metadata.
	target := -1
	for i, ev := range events {
		if ev.Transfer != nil && ev.Transfer.ID == "t1" {
			target = i
		}
	}
	if target < 1 || target+1 >= len(events) {
		t.Fatalf("no transfer t1 in the middle of the journal")
	}
	hexAt := func(line []byte) int { return len(line) - 2 - 10 } // a digit inside the stored hash

	tests := []struct {
		name    string
		tamper  func(lines [][]byte) [][]byte
		wantAt  int
		wantErr error
	}{
		{"untouched", func(l [][]byte) [][]byte { return l }, -1, nil},
		{"amount byte", func(l [][]byte) [][]byte {
			l[target] = bytes.Replace(l[target], []byte(`"amount":"5.00"`), []byte(`"amount":"6.00"`), 1)
			return l
		}, target, domain.ErrHashMismatch},
		{"balance byte", func(l [][]byte) [][]byte {
			l[target] = bytes.Replace(l[target], []byte(`"balance":"5.00"`), []byte(`"balance":"5.01"`), 1)
			return l
		}, target, domain.ErrHashMismatch},
		{"hash digit", func(l [][]byte) [][]byte {
			i := hexAt(l[target])
			l[target][i] = flipHex(l[target][i])
			return l
		}, target, domain.ErrHashMismatch},
		{"hash not hex", func(l [][]byte) [][]byte {
			l[target][hexAt(l[target])] = 'g'
			return l
		}, target, domain.ErrMalformedEvent},
		{"prev_hash digit", func(l [][]byte) [][]byte {
			i := bytes.Index(l[target], []byte(`"prev_hash":"`)) + len(`"prev_hash":"`)
			l[target][i] = flipHex(l[target][i])
			return l
		}, target, domain.ErrHashMismatch},
		{"swap two lines", func(l [][]byte) [][]byte {
			l[target], l[target+1] = l[target+1], l[target]
			return l
		}, target, domain.ErrHashMismatch},
		{"drop a line", func(l [][]byte) [][]byte {
			return append(l[:target:target], l[target+1:]...)
		}, target, domain.ErrHashMismatch},
		{"drop the first line", func(l [][]byte) [][]byte { return l[1:] }, 0, domain.ErrHashMismatch},
		{"duplicate a line", func(l [][]byte) [][]byte {
			return append(l[:target+1:target+1], l[target:]...)
		}, target + 1, domain.ErrHashMismatch},
		{"insignificant whitespace", func(l [][]byte) [][]byte {
			l[target] = bytes.Replace(l[target], []byte(`,"type"`), []byte(`, "type"`), 1)
			return l
		}, target, domain.ErrHashMismatch},
		{"truncated", func(l [][]byte) [][]byte {
			l[target] = l[target][:len(l[target])-1]
			return l
		}, target, domain.ErrMalformedEvent},
		{"hash suffix removed", func(l [][]byte) [][]byte {
			cut := len(l[target]) - len(`,"hash":"`) - 64 - len(`"}`)
			l[target] = append(bytes.Clone(l[target][:cut]), '}')
			return l
		}, target, domain.ErrMalformedEvent},
		// A rewrite that recomputes its own hash verifies by itself; the
		// next event's prev_hash is what exposes it.
		{"rewritten with a recomputed hash", func(l [][]byte) [][]byte {
			ev, err := domain.DecodeEvent(l[target])
			if err != nil {
				t.Fatal(err)
			}
			ev.Transfer.Amount = "6.00"
			prev, err := domain.ParseHash(ev.PrevHash)
			if err != nil {
				t.Fatal(err)
			}
			line, _, err := domain.AppendEvent(nil, ev, prev)
			if err != nil {
				t.Fatal(err)
			}
			l[target] = line[:len(line)-1]
			return l
		}, target + 1, domain.ErrHashMismatch},
		// An event whose hash chains to its predecessor while its prev_hash
		// field names another: only the field check catches it.
		{"prev_hash field disagrees with the chain", func(l [][]byte) [][]byte {
			ev, err := domain.DecodeEvent(l[target])
			if err != nil {
				t.Fatal(err)
			}
			realPrev, err := domain.ParseHash(ev.PrevHash)
			if err != nil {
				t.Fatal(err)
			}
			line, _, err := domain.AppendEvent(nil, ev, domain.Hash{0xab})
			if err != nil {
				t.Fatal(err)
			}
			l[target] = rehash(line[:len(line)-1], realPrev)
			return l
		}, target, domain.ErrChainBroken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Clone(record)
			lines, err := domain.SplitRecord(data)
			if err != nil {
				t.Fatal(err)
			}
			at, err := verifyChain(tc.tamper(lines))
			if at != tc.wantAt || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("first failure at %d with %v, want %d with %v", at, err, tc.wantAt, tc.wantErr)
			}
		})
	}
}

// TestVerifyLineRejectsNonCanonicalHash: the stored line is the record of
// truth, so a byte of it that changes without detection would let two
// different journals verify alike.
func TestVerifyLineRejectsNonCanonicalHash(t *testing.T) {
	record, _ := writeJournal(t, journalEvents(t)[:1])
	line := bytes.TrimSuffix(record, []byte("\n"))
	hexStart := len(line) - 2 - 64
	i := bytes.IndexAny(line[hexStart:], "abcdef")
	if i < 0 {
		t.Skip("hash has no letter digits")
	}
	upper := bytes.Clone(line)
	upper[hexStart+i] -= 'a' - 'A'
	if _, err := domain.VerifyLine(upper, domain.Hash{}); err == nil {
		t.Errorf("BUG: VerifyLine accepts a stored line whose hash digit was changed from %q to %q"+
			" (journal.go VerifyLine decodes the hash with hex.Decode, which accepts upper case);"+
			" the doc comment promises that any change to any byte of an event is detected",
			line[hexStart+i], upper[hexStart+i])
	}
}

// rehash replaces the stored hash of line with SHA-256(prev || canonical).
func rehash(line []byte, prev domain.Hash) []byte {
	const suffix = len(`,"hash":"`) + 64 + len(`"}`)
	canonical := append(bytes.Clone(line[:len(line)-suffix]), '}')
	sum := sha256.Sum256(append(append([]byte{}, prev[:]...), canonical...))
	out := append(bytes.Clone(line[:len(line)-suffix]), `,"hash":"`...)
	out = hex.AppendEncode(out, sum[:])
	return append(out, `"}`...)
}

func flipHex(c byte) byte {
	if c == '0' {
		return '1'
	}
	return '0'
}

func TestVerifyLineMalformed(t *testing.T) {
	for _, line := range []string{
		"",
		"{}",
		`{"hash":"` + strings.Repeat("0", 64) + `"}`,
		`,"hash":"` + strings.Repeat("0", 64) + `"}`,
		`{"seq":1,"hash":"` + strings.Repeat("0", 63) + `"}`,
		`{"seq":1,"hash":"` + strings.Repeat("0", 64) + `"} `,
		`{"seq":1,"hash":"` + strings.Repeat("0", 64) + `"`,
		`{"seq":1,"hash":"` + strings.Repeat("z", 64) + `"}`,
	} {
		if _, err := domain.VerifyLine([]byte(line), domain.Hash{}); !errors.Is(err, domain.ErrMalformedEvent) {
			t.Errorf("VerifyLine(%q) = %v, want ErrMalformedEvent", line, err)
		}
	}
	// A line whose hash matches but whose body is not JSON is malformed,
	// not a broken chain.
	bad := rehash([]byte(`{"seq":1,,"hash":"`+strings.Repeat("0", 64)+`"}`), domain.Hash{})
	if _, err := domain.VerifyLine(bad, domain.Hash{}); !errors.Is(err, domain.ErrMalformedEvent) {
		t.Errorf("VerifyLine(%q) = %v, want ErrMalformedEvent", bad, err)
	}
}

func TestDecodeEventMalformed(t *testing.T) {
	for _, line := range []string{
		"",
		"{",
		"[]",
		`{"seq":-1}`,
		`{"seq":"1"}`,
		`{"unknown":1}`,
		`{"time":"yesterday"}`,
	} {
		if _, err := domain.DecodeEvent([]byte(line)); !errors.Is(err, domain.ErrMalformedEvent) {
			t.Errorf("DecodeEvent(%q) = %v, want ErrMalformedEvent", line, err)
		}
	}
}

func TestSplitRecord(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: ErrMalformedEvent
	}{
		{"", nil},
		{"\n", nil},
		{"a", nil},
		{"a\nb", nil},
		{"a\n\n", nil},
		{"\na\n", nil},
		{"a\n\nb\n", nil},
		{"a\n", []string{"a"}},
		{"a\nb\n", []string{"a", "b"}},
		{"a\r\n", []string{"a\r"}}, // only '\n' ends a line
		{" \n", []string{" "}},
	}
	for _, tc := range tests {
		got, err := domain.SplitRecord([]byte(tc.in))
		if tc.want == nil {
			if !errors.Is(err, domain.ErrMalformedEvent) {
				t.Errorf("SplitRecord(%q) = %q, %v; want ErrMalformedEvent", tc.in, got, err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("SplitRecord(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Errorf("SplitRecord(%q)[%d] = %q, want %q", tc.in, i, got[i], tc.want[i])
			}
		}
	}
	// The lines alias the record, as documented: callers that keep a line
	// past the record's lifetime must copy it.
	data := []byte("ab\ncd\n")
	lines, _ := domain.SplitRecord(data)
	data[3] = 'X'
	if string(lines[1]) != "Xd" {
		t.Errorf("lines do not alias the record: %q", lines[1])
	}
}

func TestParseHash(t *testing.T) {
	h := sha256.Sum256([]byte("x"))
	got, err := domain.ParseHash(domain.Hash(h).String())
	if err != nil || got != domain.Hash(h) {
		t.Fatalf("ParseHash round trip: %v, %v", got, err)
	}
	for _, s := range []string{"", strings.Repeat("0", 63), strings.Repeat("0", 65), strings.Repeat("g", 64)} {
		if _, err := domain.ParseHash(s); !errors.Is(err, domain.ErrMalformedEvent) {
			t.Errorf("ParseHash(%q) = %v, want ErrMalformedEvent", s, err)
		}
	}
}
