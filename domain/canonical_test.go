package domain_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
)

// zeroPrev is the genesis prev_hash, which every fuzzed line chains to.
var zeroPrev = regexp.MustCompile(`"prev_hash":"[0-9a-f]{64}"`)

// storedLine appends to canonical bytes c (a line without its hash) the
// hash it has after the genesis.
func storedLine(c []byte) []byte {
	var zero domain.Hash
	h := sha256.Sum256(append(zero[:], c...))
	line := append(bytes.Clone(c[:len(c)-1]), `,"hash":"`...)
	return append(append(line, hex.EncodeToString(h[:])...), `"}`...)
}

// FuzzLineCanonical holds Line.Canonical's shortcut (no encoding for a
// line the canonical reader took) to CheckCanonical, which encodes the
// event again: whenever the shortcut accepts a line, the encoding must
// give its bytes. The seeds are the spec's vectors, canonical and not,
// made to chain to the genesis.
func FuzzLineCanonical(f *testing.F) {
	for _, c := range journaltest.SpecBodies(f, "../docs/testdata") {
		f.Add(zeroPrev.ReplaceAll(c, []byte(`"prev_hash":"`+domain.Hash{}.String()+`"`)))
	}
	f.Fuzz(func(t *testing.T, c []byte) {
		if len(c) < 2 || c[len(c)-1] != '}' {
			return
		}
		line := storedLine(c)
		var l domain.Line
		if _, err := l.Prepare(line, domain.Hash{}); err != nil {
			return
		}
		var buf domain.EventBuffer
		ev, err := l.View(&buf)
		if err != nil {
			return
		}
		_, fast := l.Canonical(ev, nil)
		_, slow := domain.CheckCanonical(line, ev, nil)
		if (fast == nil) != (slow == nil) {
			t.Fatalf("Line.Canonical says %v, CheckCanonical %v, of %s", fast, slow, line)
		}
		if fast != nil && !errors.Is(fast, domain.ErrNotCanonical) {
			t.Fatalf("error %v does not wrap ErrNotCanonical", fast)
		}
	})
}

// TestLineCanonicalEscapes puts each character that the encoding escapes
// and the canonical reader takes raw ('<', '>', '&', U+2028, U+2029) at
// every offset of an eight-byte word of the line (the shortcut reads
// words), and characters next to them that need no escape: the shortcut
// must refuse exactly the first, as CheckCanonical does.
func TestLineCanonicalEscapes(t *testing.T) {
	for _, tc := range []struct {
		raw, escaped string
		canonical    bool
	}{
		{"<", `\u003c`, false}, {">", `\u003e`, false}, {"&", `\u0026`, false},
		{"\u2028", `\u2028`, false}, {"\u2029", `\u2029`, false},
		{"=", "=", true}, {"?", "?", true}, {"%", "%", true}, {"'", "'", true}, {".", ".", true},
		{"é", "é", true}, {"\u2027", "\u2027", true}, {"\u202a", "\u202a", true}, {"€", "€", true},
	} {
		for pad := range 16 {
			ref := strings.Repeat("x", pad) + tc.raw + "y"
			ev := &domain.Event{Seq: 1, Type: domain.EventTransferPosted, Version: domain.SchemaVersion, Time: testEpoch,
				Transfer: &domain.PostedTransfer{Transfer: domain.Transfer{ID: "t1", From: "a", To: "b", Amount: "1.00", Asset: "USD", Reference: ref}}}
			out, _, err := domain.AppendEvent(nil, ev, domain.Hash{})
			if err != nil {
				t.Fatal(err)
			}
			c := append(bytes.Clone(out[:len(out)-1-75]), '}')
			c = bytes.Replace(c, []byte(tc.escaped), []byte(tc.raw), 1)
			line := storedLine(c)
			var l domain.Line
			if _, err := l.Prepare(line, domain.Hash{}); err != nil {
				t.Fatalf("%q at %d: %v", tc.raw, pad, err)
			}
			var buf domain.EventBuffer
			got, err := l.View(&buf)
			if err != nil {
				t.Fatal(err)
			}
			_, fast := l.Canonical(got, nil)
			_, slow := domain.CheckCanonical(line, got, nil)
			if (fast == nil) != tc.canonical || (slow == nil) != tc.canonical {
				t.Errorf("%q after %d bytes: Line.Canonical %v, CheckCanonical %v, want canonical %v", tc.raw, pad, fast, slow, tc.canonical)
			}
		}
	}
}
