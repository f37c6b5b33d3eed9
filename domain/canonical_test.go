package domain_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"testing"

	"github.com/nats-ledger/ledger/domain"
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
	for _, name := range []string{"../docs/testdata/lines.jsonl", "../docs/testdata/journal.jsonl"} {
		file, err := os.Open(name)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			var v struct{ Line string }
			if json.Unmarshal(line, &v) == nil && v.Line != "" {
				line = []byte(v.Line)
			}
			c := append(bytes.Clone(line[:len(line)-75]), '}')
			f.Add(zeroPrev.ReplaceAll(c, []byte(`"prev_hash":"`+domain.Hash{}.String()+`"`)))
		}
		file.Close()
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
