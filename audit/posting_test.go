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
// numbers), with it and no event (a compact posting: its record alone,
// its event built from the line when asked, lazyEvent) and with the
// general one (fastNumbers off: every line's schema and canonical form
// checked on its event, its literals read by the domain's parsers), and
// fails t unless they give the same result: the hash, the link, the same
// errors, the same event, the same numbers, the same record. It reports
// whether the posting path was taken.
func checkBothPaths(t *testing.T, line []byte, prev domain.Hash) bool {
	t.Helper()
	var fast, compact, general lineResult
	hf := checkLine(newChecker(&postingSeeds, false), line, prev, &fast, nil)
	hc := checkLine(newChecker(&postingSeeds, true), line, prev, &compact, nil)
	defer func(was bool) { fastNumbers = was }(fastNumbers)
	fastNumbers = false
	hg := checkLine(newChecker(&postingSeeds, true), line, prev, &general, nil)
	errs := func(r *lineResult) string {
		if r.x == nil {
			return fmt.Sprint(nil, nil, nil)
		}
		return fmt.Sprint(r.x.decodeErr, r.x.schemaErr, r.x.canonErr)
	}
	for _, o := range []struct {
		r    *lineResult
		hash domain.Hash
	}{{&compact, hc}, {&general, hg}} {
		if hf != o.hash || fast.link != o.r.link || errs(&fast) != errs(o.r) {
			t.Fatalf("posting path: %s %d %s; other path: %s %d %s; for %q",
				hf, fast.link, errs(&fast), o.hash, o.r.link, errs(o.r), line)
		}
	}
	if !reflect.DeepEqual(fast.x.ev, general.x.ev) {
		t.Fatalf("posting path: %+v; general path: %+v; for %q", fast.x.ev, general.x.ev, line)
	}
	fn, gn := fast.nums, general.nums
	if fn.ok != gn.ok || fn.ok && (fn.key != gn.key || fn.amount != gn.amount || fn.after != gn.after || fn.places != gn.places) {
		t.Fatalf("posting path: numbers %+v; general path: %+v; for %q", fn, gn, line)
	}
	if general.posting || general.x == nil {
		t.Fatalf("the general path says it took the posting path for %q", line)
	}
	var l domain.Line
	_, err := l.Prepare(line, prev)
	_, posting := l.Posting()
	if fast.posting != (err == nil && posting) || compact.posting != fast.posting || (compact.x == nil) != fast.posting {
		t.Fatalf("lineResult.posting is %v (compact %v, no event %v), domain.Line.Posting %v, for %q",
			fast.posting, compact.posting, compact.x == nil, posting, line)
	}
	if fast.posting {
		checkCompact(t, line, prev, hc, &fast, &compact)
	}
	return fast.posting
}

// checkCompact fails t unless a compact posting's record is its event
// path's, event aside, and the event built from its line is that path's
// event.
func checkCompact(t *testing.T, line []byte, prev, hash domain.Hash, fast, compact *lineResult) {
	t.Helper()
	withEvent := *fast
	withEvent.x = nil
	if withEvent != *compact {
		t.Fatalf("compact record %+v; with its event %+v; for %q", *compact, withEvent, line)
	}
	var z lazyEvent
	z.reset(line, &prev, &hash)
	if ev := z.event(); !reflect.DeepEqual(ev, fast.x.ev) {
		t.Fatalf("compact posting's event %+v; the event path's %+v; for %q", ev, fast.x.ev, line)
	}
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
