package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
)

// postingSeeds are fixed for the process, so that both paths hash ids
// alike.
var postingSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// checkBothPaths checks line after prev with the posting reader's path
// (domain.Line.Posting: no schema or canonical check after it, its
// numbers) and with the general one (fastNumbers off: every line's schema
// and canonical form checked on its event, its literals read by the
// domain's parsers), and fails t unless they give the same result: the
// hash, the link, the same errors, the same event, the same numbers. It
// reports whether the posting path was taken.
func checkBothPaths(t *testing.T, line []byte, prev domain.Hash) bool {
	t.Helper()
	var fast, general lineResult
	checkLine(line, prev, &fast, &postingSeeds, nil)
	defer func(was bool) { fastNumbers = was }(fastNumbers)
	fastNumbers = false
	checkLine(line, prev, &general, &postingSeeds, nil)
	errs := func(r *lineResult) string { return fmt.Sprint(r.decodeErr, r.schemaErr, r.canonErr) }
	if fast.hash != general.hash || fast.link != general.link || errs(&fast) != errs(&general) {
		t.Fatalf("posting path: %s %d %s; general path: %s %d %s; for %q",
			fast.hash, fast.link, errs(&fast), general.hash, general.link, errs(&general), line)
	}
	if !reflect.DeepEqual(fast.ev, general.ev) {
		t.Fatalf("posting path: %+v; general path: %+v; for %q", fast.ev, general.ev, line)
	}
	fn, gn := fast.nums, general.nums
	if fn.ok != gn.ok || fn.ok && (fn.key != gn.key || fn.amount != gn.amount || fn.after != gn.after || fn.places != gn.places) {
		t.Fatalf("posting path: numbers %+v; general path: %+v; for %q", fn, gn, line)
	}
	if general.posting {
		t.Fatalf("the general path says it took the posting path for %q", line)
	}
	var l domain.Line
	_, err := l.Prepare(line, prev)
	_, posting := l.Posting()
	if fast.posting != (err == nil && posting) {
		t.Fatalf("lineResult.posting is %v, domain.Line.Posting %v, for %q", fast.posting, posting, line)
	}
	return fast.posting
}

// sealed is body (a line without its hash, ending in '}') with the hash
// it has after prev.
func sealed(body []byte, prev domain.Hash) []byte {
	h := sha256.Sum256(append(prev[:], body...))
	line := append(bytes.Clone(body[:len(body)-1]), `,"hash":"`...)
	return append(hex.AppendEncode(line, h[:]), `"}`...)
}

// TestPostingPathAgrees: on the spec's lines and the fast path tests'
// hostile ones, the posting path and the general path agree, and the
// posting path takes the spec's postings.
func TestPostingPathAgrees(t *testing.T) {
	taken := 0
	rng := rand.New(rand.NewPCG(3, 4))
	for _, body := range journaltest.SpecBodies(t, "../docs/testdata") {
		var prev domain.Hash
		copy(prev[:], "not the line's prev_hash")
		for _, p := range []domain.Hash{{}, prev} {
			chained := replaceValue(body, `"prev_hash":"`, p.String())
			if checkBothPaths(t, sealed(chained, p), p) {
				taken++
			}
			// Hashed after p, but naming another; and not hashed after p.
			checkBothPaths(t, sealed(body, p), p)
			checkBothPaths(t, sealed(chained, domain.Hash{}), p)
		}
		chained := replaceValue(body, `"prev_hash":"`, domain.Hash{}.String())
		for _, edit := range hostileEdits {
			for range 20 {
				checkBothPaths(t, sealed(edit(bytes.Clone(chained), rng), domain.Hash{}), domain.Hash{})
			}
		}
	}
	if taken == 0 {
		t.Fatal("the posting path took none of the spec's lines")
	}
}

// FuzzCheckLinePosting is the differential test of the posting path in
// checkLine: on any line (hashed after prev, or not, so that both the
// hash check and the reading are reached), it must give what the general
// path gives (checkBothPaths).
func FuzzCheckLinePosting(f *testing.F) {
	for _, body := range journaltest.SpecBodies(f, "../docs/testdata") {
		f.Add(replaceValue(body, `"prev_hash":"`, domain.Hash{}.String()), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, seal bool) {
		if len(body) < 2 {
			return
		}
		line := body
		if seal && body[len(body)-1] == '}' {
			line = sealed(body, domain.Hash{})
		}
		checkBothPaths(t, line, domain.Hash{})
	})
}
