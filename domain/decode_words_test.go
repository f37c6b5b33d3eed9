package domain_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// The posting reader reads a word (eight bytes) at a time: its literals,
// its id characters, its repeated strings, its numbers, its time and the
// prev_hash. These tests put what it must stop at or refuse at every
// position of a word, in strings of every length around a word's, and
// hold it to the general reader there (checkPostingReader).

// oddBytes are the bytes a word-at-a-time test must find wherever they
// lie: the quote, the backslash, control characters, DEL, bytes of UTF-8
// sequences, and characters next to the classes' bounds.
var oddBytes = []byte{'"', '\\', 0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xff, '/', ':', ' ', '.', '0', 'Z', '@', '[', '`', '{'}

// numberBytes are oddBytes for a number: its neighbours in ASCII, its
// signs and separators, and a few of the rest.
var numberBytes = []byte{'"', '/', ':', '.', '-', '+', 'e', 0x00, 0xff, '0'}

// checkVariant checks one changed body and reports whether the posting
// reader took it.
func checkVariant(t *testing.T, body string) bool {
	t.Helper()
	return checkPostingReader(t, storedLine([]byte(body)), domain.Hash{})
}

// replaceField is postingBody with the string field holding old (quoted,
// every occurrence if all) holding s instead.
func replaceField(old, s string, all bool) string { return replaceQuoted(old, s+`"`, all) }

// replaceInEntries is body with the string field holding old, quoted,
// holding s (with its closing quote) in the entries alone.
func replaceInEntries(body, old, s string) string {
	at := strings.Index(body, `"entries"`)
	return body[:at] + strings.ReplaceAll(body[at:], `"`+old+`"`, `"`+s)
}

// replaceQuoted is replaceField with s's closing quote in s, to change.
func replaceQuoted(old, s string, all bool) string {
	n := 1
	if all {
		n = -1
	}
	return strings.Replace(postingBody, `"`+old+`"`, `"`+s, n)
}

// TestPostingReaderStringsByWord: every string field of a posting (the
// ids, the accounts the entries repeat, the asset, the reference, a
// metadata value) at lengths 0 to 17, and with each of oddBytes at each
// of its positions; the accounts also changed in the transfer alone.
func TestPostingReaderStringsByWord(t *testing.T) {
	fields := []struct {
		old, chars string
		all, taken bool // every occurrence; taken at lengths 1 to 17
	}{
		{old: "t-1", chars: "t-azAZ09_.:t-azAZ", taken: true},
		{old: "world", chars: "w-azAZ09_.:w-azAZ", all: true, taken: true},
		{old: "alice", chars: "a-azAZ09_.:a-azAZ", all: true, taken: true},
		{old: "USD", chars: "ABCDEFGHIJKLMNOP_"},
		{old: "invoice 7", chars: "invoice 7 <é> x-y", taken: false},
		{old: "o:1", chars: "o:1 v-a-l-u-e-1-2"},
	}
	for _, f := range fields {
		for n := 0; n <= 17; n++ {
			s := f.chars[:min(n, len(f.chars))]
			for len(s) < n {
				s += "x"
			}
			if got := checkVariant(t, replaceField(f.old, s, f.all)); f.taken && n > 0 && !got {
				t.Fatalf("%q as %q: the posting reader left it", f.old, s)
			}
			for k := 0; k <= n; k++ { // n: its closing quote
				for _, c := range oddBytes {
					b := []byte(s + `"`)
					b[k] = c
					checkVariant(t, replaceQuoted(f.old, string(b), f.all))
					if f.all { // the transfer's account alone, the entry's alone
						checkVariant(t, replaceQuoted(f.old, string(b), false))
						checkVariant(t, replaceInEntries(replaceField(f.old, s, true), s, string(b)))
					}
				}
			}
		}
	}
}

// TestPostingReaderNumbersByWord: the amount (in the transfer and both
// entries) and a balance of 1 to 20 digits with no point or one after
// the first, the middle or the last but one digit, each with each of
// numberBytes at each position (and in the entries' amounts alone, up to
// their closing quote); and the line's integers (its sequence, its
// command's sequence and item) of 1 to 20 digits, with a leading zero,
// and followed by a fraction or exponent.
func TestPostingReaderNumbersByWord(t *testing.T) {
	const digits = "98765432109876543210"
	for n := 1; n <= 20; n++ {
		for _, dot := range []int{0, 1, n / 2, n - 1} {
			if dot >= n {
				continue
			}
			lit := digits[:n]
			if dot > 0 {
				lit = digits[:dot] + "." + digits[dot:n]
			}
			variants := []string{lit}
			for k := range lit {
				for _, c := range numberBytes {
					b := []byte(lit)
					b[k] = c
					variants = append(variants, string(b))
				}
			}
			body := strings.ReplaceAll(postingBody, `"100.00"`, `"`+lit+`"`)
			for k := 0; k <= len(lit); k++ { // the entries' amounts alone, their closing quote too
				for _, c := range numberBytes {
					b := []byte(lit + `"`)
					b[k] = c
					checkVariant(t, replaceInEntries(body, lit, string(b)))
				}
			}
			for _, v := range variants {
				taken := checkVariant(t, strings.ReplaceAll(postingBody, `"100.00"`, `"`+v+`"`))
				if v == lit && n <= 18 && !taken {
					t.Fatalf("amount %s: the posting reader left it", v)
				}
				checkVariant(t, strings.Replace(postingBody, `"balance":"-100.00"`, `"balance":"-`+v+`"`, 1))
			}
		}
	}
	for _, field := range []string{`"seq":4`, `"seq":3`, `"item":1`} {
		name := field[:strings.IndexByte(field, ':')+1]
		for n := 1; n <= 20; n++ {
			for _, v := range []string{digits[:n], "0" + digits[:n], digits[:n] + ".5", digits[:n] + "e1", digits[:n] + "E1", digits[:n] + " "} {
				checkVariant(t, strings.Replace(postingBody, field, name+v, 1))
			}
		}
	}
}

// TestPostingReaderTimeByWord: the time with each of its characters
// replaced by each of a set that holds every separator and bounds of the
// digits, and with fractions of 0 to 10 digits, a zero last or not.
func TestPostingReaderTimeByWord(t *testing.T) {
	const at = "2026-03-01T09:30:00.123456789Z"
	for k := range at {
		for _, c := range []byte("0129:-.TZ/a\x00\xff\"") {
			b := []byte(at)
			b[k] = c
			checkVariant(t, strings.Replace(postingBody, at, string(b), 1))
		}
	}
	for n := 0; n <= 10; n++ {
		for _, last := range "01" {
			frac := ""
			if n > 0 {
				frac = "." + "1234567891"[:n-1] + string(last)
			}
			v := "2024-02-29T23:59:59" + frac + "Z"
			taken := checkVariant(t, strings.Replace(postingBody, at, v, 1))
			if want := n <= 9 && (n == 0 || last != '0'); taken != want {
				t.Fatalf("time %s: taken %v, want %v", v, taken, want)
			}
		}
	}
}

// TestPostingReaderPrevHashByWord: a prev_hash that is the previous hash
// but for one digit at any position, changed to another digit, to upper
// case or to a byte that is no digit, is never taken.
func TestPostingReaderPrevHashByWord(t *testing.T) {
	prev := domain.Hash(sha256.Sum256([]byte("the line before")))
	text := prev.String()
	zero := strings.Repeat("0", 2*domain.HashSize)
	for k := range text {
		for _, c := range []byte("0af9AF\"g\x00") {
			b := []byte(text)
			if b[k] == c {
				continue
			}
			b[k] = c
			body := strings.Replace(postingBody, zero, string(b), 1)
			if checkPostingReader(t, storedLineAfter(prev, body), prev) {
				t.Fatalf("prev_hash %s for %s: taken", b, text)
			}
		}
	}
	if !checkPostingReader(t, storedLineAfter(prev, strings.Replace(postingBody, zero, text, 1)), prev) {
		t.Fatal("the posting reader left a line chained to its previous hash")
	}
}

// storedLineAfter is storedLine for a line after prev.
func storedLineAfter(prev domain.Hash, body string) []byte {
	h := sha256.Sum256(append(prev[:], body...))
	return []byte(fmt.Sprintf(`%s,"hash":"%s"}`, body[:len(body)-1], hex.EncodeToString(h[:])))
}

// TestWordIsLittleEndian: the reader's word load (one unaligned load on
// amd64) reads the eight bytes from every offset as
// binary.LittleEndian does.
func TestWordIsLittleEndian(t *testing.T) {
	b := make([]byte, 64)
	for i := range b {
		b[i] = byte(i*37 + 11)
	}
	for i := 0; i+8 <= len(b); i++ {
		if got, want := domain.Word(b, i), binary.LittleEndian.Uint64(b[i:]); got != want {
			t.Fatalf("Word(b, %d) = %#x, want %#x", i, got, want)
		}
	}
}
