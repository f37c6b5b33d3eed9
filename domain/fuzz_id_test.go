package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nats-ledger/ledger/domain"
)

// idRule is ValidateID's documented rule, written independently: the
// character set and length, and not only dots (dotsOnly).
var (
	idRule   = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	dotsOnly = regexp.MustCompile(`^\.+$`)
)

// FuzzValidateID checks ValidateID against its documented rule and that an
// accepted id survives every encoding it goes through unchanged: a URL
// path segment, JSON, and a journal line.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"alice", "world", "t-1", "A.Z:0-9_", "..", ".", "...", "a..", "..a", ".a.", ":", "-", "_",
		"", " ", "a b", "a\x00b", "a\nb", "a\tb", "\u202eevil", "ali\u200bce", "\u0430lice", "bob\U0001F642",
		"\uff11\uff12\uff13", "a/b", "a%2Fb", "a\\b", `a"b`, "<a>", "\xff", "\xc0\xaf", "é",
		strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("é", 32)} {
		f.Add("id", s)
	}
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, field, id string) {
		err := domain.ValidateID(field, id)
		if want := idRule.MatchString(id) && !dotsOnly.MatchString(id); (err == nil) != want {
			t.Fatalf("ValidateID(%q) = %v, the documented rule says ok=%v", id, err, want)
		}
		if err != nil {
			var fe *domain.FieldError
			if !errors.As(err, &fe) || fe.Field != field || fe.Code() != domain.CodeValidationFailed {
				t.Fatalf("ValidateID(%q, %q) = %#v, want a validation_failed FieldError on the field", field, id, err)
			}
			return
		}
		if len(id) < 1 || len(id) > domain.MaxIDLen || !utf8.ValidString(id) || utf8.RuneCountInString(id) != len(id) {
			t.Fatalf("accepted %q: %d bytes, not 1 to %d ASCII bytes", id, len(id), domain.MaxIDLen)
		}
		if len(id) == domain.MaxIDLen && domain.ValidateID(field, id+"a") == nil {
			t.Fatalf("accepted %q plus one byte", id)
		}
		if esc := url.PathEscape(id); esc != id {
			t.Fatalf("id %q needs escaping in a URL path: %q", id, esc)
		}
		if back, err := url.PathUnescape(id); err != nil || back != id {
			t.Fatalf("id %q reads back from a URL path as %q, %v", id, back, err)
		}
		// A client resolving the URL (removing dot segments) keeps it.
		u, err := url.Parse("http://ledger.test/v1/transfers/" + id)
		if err != nil {
			t.Fatalf("URL with id %q: %v", id, err)
		}
		if got := u.ResolveReference(&url.URL{}).Path; got != "/v1/transfers/"+id {
			t.Fatalf("id %q: a client resolves its URL path to %q", id, got)
		}
		js, err := json.Marshal(id)
		if err != nil || string(js) != `"`+id+`"` {
			t.Fatalf("id %q encodes to JSON as %s, %v; want it unescaped", id, js, err)
		}
		var back string
		if err := json.Unmarshal(js, &back); err != nil || back != id {
			t.Fatalf("id %q reads back from JSON as %q, %v", id, back, err)
		}

		// Through the journal: the id is stored verbatim and reads back.
		to := "x"
		if id == to {
			to = "y"
		}
		ev := &domain.Event{Seq: 1, Type: domain.EventTransferPosted, Version: domain.SchemaVersion,
			Transfer: &domain.PostedTransfer{Transfer: domain.Transfer{ID: id, From: id, To: to, Amount: "1", Asset: "USD"}}}
		record, h, err := domain.AppendEvent(nil, ev, domain.Hash{})
		if err != nil {
			t.Fatalf("AppendEvent with id %q: %v", id, err)
		}
		if !bytes.Contains(record, []byte(`"id":"`+id+`"`)) {
			t.Fatalf("journal line does not hold id %q verbatim: %s", id, record)
		}
		lines, err := domain.SplitRecord(record)
		if err != nil || len(lines) != 1 {
			t.Fatalf("SplitRecord of one event: %d lines, %v", len(lines), err)
		}
		if got, err := domain.VerifyLine(lines[0], domain.Hash{}); err != nil || got != h {
			t.Fatalf("VerifyLine: %v", err)
		}
		dec, err := domain.DecodeEvent(lines[0])
		if err != nil || dec.Transfer == nil || dec.Transfer.ID != id || dec.Transfer.From != id {
			t.Fatalf("DecodeEvent of id %q: %+v, %v", id, dec, err)
		}
	})
}

// FuzzSplitRecord decodes arbitrary bytes as a journal record: SplitRecord
// and DecodeEvent must never panic; an accepted record is exactly its lines
// joined by '\n' with a final '\n'; a line that verifies against the chain
// decodes to an event that re-encodes to the same bytes.
func FuzzSplitRecord(f *testing.F) {
	record, _ := writeJournal(f, journalEvents(f))
	f.Add(record)
	lines := bytes.SplitAfter(record, []byte("\n"))
	f.Add(lines[0])
	f.Add(bytes.Join(lines[1:], nil)) // does not chain from the zero hash
	f.Add(record[:len(record)-1])     // no final newline
	f.Add(bytes.ReplaceAll(record, []byte("\n"), []byte("\r\n")))
	f.Add(bytes.Replace(record, []byte("\n"), []byte("\n\n"), 1))
	for _, s := range []string{"", "\n", "\n\n", "{}\n", "null\n", "a\n\nb\n", "{\"seq\":1}\n{\"seq\":2}\n", "\xff\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := domain.SplitRecord(data)
		if err != nil {
			if !errors.Is(err, domain.ErrMalformedEvent) {
				t.Fatalf("SplitRecord error %v does not wrap ErrMalformedEvent", err)
			}
			if len(data) > 0 && data[len(data)-1] == '\n' && !bytes.Contains(data, []byte("\n\n")) && data[0] != '\n' {
				t.Fatalf("SplitRecord refused a well-formed record %q: %v", data, err)
			}
			return
		}
		if len(lines) == 0 {
			t.Fatalf("SplitRecord(%q) accepted with no lines", data)
		}
		for i, l := range lines {
			if len(l) == 0 || bytes.IndexByte(l, '\n') >= 0 {
				t.Fatalf("line %d of %q is %q", i, data, l)
			}
		}
		if joined := append(bytes.Join(lines, []byte("\n")), '\n'); !bytes.Equal(joined, data) {
			t.Fatalf("lines of %q join to %q", data, joined)
		}
		var prev domain.Hash
		chained := true // every line so far verified
		for i, line := range lines {
			ev, decErr := domain.DecodeEvent(line)
			if decErr != nil && !errors.Is(decErr, domain.ErrMalformedEvent) {
				t.Fatalf("DecodeEvent error %v does not wrap ErrMalformedEvent", decErr)
			}
			h, verErr := domain.VerifyLine(line, prev)
			if !chained || verErr != nil {
				chained = false
				continue
			}
			if decErr != nil {
				t.Fatalf("line %d verifies but does not decode: %v\n%s", i, decErr, line)
			}
			if ev.Hash != h.String() || ev.PrevHash != prev.String() {
				t.Fatalf("line %d: decoded hashes %s/%s, verified %s/%s", i, ev.PrevHash, ev.Hash, prev, h)
			}
			again, h2, err := domain.AppendEvent(nil, ev, prev)
			if err != nil || h2 != h || !bytes.Equal(again[:len(again)-1], line) {
				t.Fatalf("line %d does not re-encode to itself (%v)\n  line %s\nagain %s", i, err, line, again)
			}
			prev = h
		}
	})
}
