package domain

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"
)

// classifierRuns: the classifier can be turned on here (not on an amd64
// without AVX2, where its instructions do not exist).
func classifierRuns() bool { return hasAVX2() || runtime.GOARCH != "amd64" }

// charsNaive is the rule: the first byte from i that t does not mark.
func charsNaive(b []byte, i int, t *[256]bool) int {
	for i < len(b) && t[b[i]] {
		i++
	}
	return i
}

// withAVX2 runs f with the classifier on and then off (on: the assembly
// where the CPU has AVX2, the nibble tables in Go elsewhere).
func withAVX2(t *testing.T, f func(t *testing.T)) {
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	for _, on := range []bool{true, false} {
		if on && !classifierRuns() {
			t.Log("no AVX2: the classifier is not run")
			continue
		}
		useAVX2 = on
		name := "go"
		if on {
			name = "classifier"
		}
		t.Run(name, f)
	}
}

// TestCharsClassifierAgrees: charsAt with the classifier and without it
// stops where idChars (codeChars) says, for every byte at every position
// of a 32-byte window and across its edge into the next, from starts
// that are and are not a window's multiple, and with the line ending
// within, at or past the window.
func TestCharsClassifierAgrees(t *testing.T) {
	if !idNibbles.ok || !codeNibbles.ok {
		t.Fatalf("nibble tables not exact: id %v, code %v", idNibbles.ok, codeNibbles.ok)
	}
	t.Logf("AVX2: %v", hasAVX2())
	tables := []struct {
		name string
		t    *[256]bool
		n    *nibbleTables
		fill byte
	}{{"idChars", &idChars, &idNibbles, 'a'}, {"codeChars", &codeChars, &codeNibbles, 'Z'}}
	withAVX2(t, func(t *testing.T) {
		for _, tb := range tables {
			var b [128]byte
			for start := 0; start < 4; start++ {
				for pos := start; pos < start+70; pos++ {
					for c := 0; c < 256; c++ {
						for k := range b {
							b[k] = tb.fill
						}
						b[pos] = byte(c)
						for _, n := range []int{pos + 1, pos + 33, len(b)} {
							line := b[:n]
							got, want := charsAt(line, start, tb.t, tb.n), charsNaive(line, start, tb.t)
							if got != want {
								t.Fatalf("%s: byte %#x at %d from %d, line of %d: charsAt %d, the table %d",
									tb.name, c, pos, start, n, got, want)
							}
						}
					}
				}
			}
		}
	})
}

// TestNibbleTablesExact: a table with more than eight distinct rows of
// low nibbles is not representable, and nibblesOf says so rather than
// building a classifier that differs from it; one with eight is.
func TestNibbleTablesExact(t *testing.T) {
	var nine, eight [256]bool
	for h := 0; h < 9; h++ {
		for l := 0; l <= h; l++ {
			nine[h<<4|l] = true
			if h < 8 {
				eight[h<<4|l] = true
			}
		}
	}
	if n := nibblesOf(&nine); n.ok {
		t.Fatal("nine distinct rows: tables reported exact")
	}
	if n := nibblesOf(&eight); !n.ok {
		t.Fatal("eight distinct rows: tables reported not exact")
	}
	for c := 0; c < 256; c++ {
		n := nibblesOf(&eight)
		if got := n.lo[c&15]&n.hi[c>>4] != 0; got != eight[c] {
			t.Fatalf("byte %#x: classifier %v, table %v", c, got, eight[c])
		}
	}
}

// TestGodebugTurnsAVX2Off: GODEBUG's cpu.avx2=off and cpu.all=off, as
// the standard library reads them.
func TestGodebugTurnsAVX2Off(t *testing.T) {
	for s, want := range map[string]bool{"": false, "cpu.avx2=off": true, "x=1,cpu.all=off": true,
		"cpu.avx2=on": false, "cpu.avx=off": false} {
		if got := godebugOff(s); got != want {
			t.Errorf("godebugOff(%q) = %v", s, got)
		}
	}
}

// FuzzCharsAt: the classifier and the Go path stop where the table says
// on any line from any start.
func FuzzCharsAt(f *testing.F) {
	f.Add([]byte(`bench-1-2-345","from":"bench-17","to"`), uint8(0))
	f.Add([]byte(`BENCH","reference":"x"`), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, start uint8) {
		i := min(int(start), len(b))
		for _, tb := range []*[256]bool{&idChars, &codeChars} {
			n := &idNibbles
			if tb == &codeChars {
				n = &codeNibbles
			}
			want := charsNaive(b, i, tb)
			saved := useAVX2
			for _, on := range []bool{classifierRuns(), false} {
				useAVX2 = on
				if got := charsAt(b, i, tb, n); got != want {
					useAVX2 = saved
					t.Fatalf("AVX2 %v: charsAt(%q, %d) = %d, the table %d", on, b, i, got, want)
				}
			}
			useAVX2 = saved
		}
	})
}

// idsNaive is idsAt's rule, a byte at a time: each string's characters
// as charsNaive finds them (empty or past MaxIDLen: an empty span), the
// literals between them compared as they are.
func idsNaive(b []byte, i int) (id, from, to span, ok bool, end int) {
	str := func(i int) (span, int) {
		e := charsNaive(b, i, &idChars)
		if e == i || e-i > MaxIDLen {
			return span{}, e
		}
		return span{int32(i), int32(e)}, e
	}
	litOK := func(i int, s string) (bool, int) {
		return len(b)-i >= maxLit && string(b[i:i+len(s)]) == s, i + len(s)
	}
	id, i = str(i)
	ok1, i := litOK(i, `","from":"`)
	from, i = str(i)
	ok2, i := litOK(i, `","to":"`)
	to, i = str(i)
	return id, from, to, ok1 && ok2, i
}

// TestIDsAtAgrees: idsAt, with the three windows read in one call (ids3)
// and without, finds what idsNaive finds on every line that idsNaive
// takes (its literals in place, no string empty), and refuses every
// other: ids of 0 to 70 characters, a byte of any value put anywhere in
// them or in the literals, lines cut short around ids3's window.
func TestIDsAtAgrees(t *testing.T) {
	withAVX2(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		chars := []byte("abcXYZ019-_.:")
		for k := range 300_000 {
			var b []byte
			b = append(b, `{"id":"`...)
			for n, s := range []string{`","from":"`, `","to":"`, `","amount":"1.00`} {
				for range r.IntN([]int{40, 40, 70}[n]) {
					b = append(b, chars[r.IntN(len(chars))])
				}
				b = append(b, s...)
			}
			b = append(b, bytes.Repeat([]byte("x"), r.IntN(120))...)
			if k%2 == 1 { // a hostile byte anywhere
				b[7+r.IntN(len(b)-7)] = byte(r.IntN(256))
			}
			if k%5 == 0 { // cut short
				b = b[:7+r.IntN(len(b)-7)]
			}
			var ts transferSpans
			d, end := idsAt(b, 7, &ts)
			id, from, to, ok, wantEnd := idsNaive(b, 7)
			took := d == 0 && ts.id.a != ts.id.b && ts.from.a != ts.from.b && ts.to.a != ts.to.b
			want := ok && id.a != id.b && from.a != from.b && to.a != to.b
			if took != want || want && (ts.id != id || ts.from != from || ts.to != to || end != wantEnd) {
				t.Fatalf("%q: idsAt took %v (%v %v %v, end %d), the rule says %v (%v %v %v, end %d)",
					b, took, ts.id, ts.from, ts.to, end, want, id, from, to, wantEnd)
			}
		}
	})
}
