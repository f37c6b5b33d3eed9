package domain

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// literalBoth is literalPrefix with the assembly (where it runs) and
// without it, which must agree in every result.
func literalBoth(t *testing.T, s string, signed bool) {
	t.Helper()
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	useAVX2 = false
	v0, p0, n0, ok0 := literalPrefix(s, signed)
	atAgrees(t, s, signed, v0, p0, n0, ok0)
	if !classifierRuns() {
		return
	}
	useAVX2 = true
	v1, p1, n1, ok1 := literalPrefix(s, signed)
	if v0 != v1 || p0 != p1 || n0 != n1 || ok0 != ok1 {
		t.Fatalf("literalPrefix(%q, %v): Go %d %d %d %v, 16 at a time %d %d %d %v",
			s, signed, v0, p0, n0, ok0, v1, p1, n1, ok1)
	}
	atAgrees(t, s, signed, v0, p0, n0, ok0)
}

// atAgrees: the posting reader's literalAt (the assembly's reading in
// place where useAVX2, literalPrefix else) reads s, from the start of a
// line and three bytes into one, as literalPrefix's Go loop read it: v,
// places, n and ok.
func atAgrees(t *testing.T, s string, signed bool, v int64, places, n int, ok bool) {
	t.Helper()
	for _, pre := range []string{"", `":"`} {
		b := []byte(pre + s)
		i := len(pre)
		want := [4]int64{0, 0, 0, int64(i)}
		if ok {
			want = [4]int64{int64(i), v, int64(places), int64(i + n)}
		}
		sp, gv, gp, end := literalAt(b, i, signed)
		got := [4]int64{int64(sp.a), gv, int64(gp), int64(end)}
		if ok && sp.b != int32(i+n) || !ok && sp != (span{}) || got != want {
			t.Fatalf("literalAt(%q, %d, %v) (AVX2 %v) = %v %d %d %d, literalPrefix says %v",
				b, i, signed, useAVX2, sp, gv, gp, end, want)
		}
	}
}

// TestLiteralDigitsAgree: literalPrefix reads the same value, places,
// end and verdict 16 bytes at a time as a byte at a time, for literals
// of every shape up to and past the window (0 to 19 digits before the
// '.', none or 0 to 19 after it, a sign or not), and for the bench
// ledger's balance and amount with every byte at every position of the
// window and just past it.
func TestLiteralDigitsAgree(t *testing.T) {
	if classifierRuns() { // the window's reading itself, not the fallback
		b := []byte(`1000000004.73","balance"`)
		if v, a, f := digits16(&b[0]); v != 100000000473 || a != 10 || f != 2 {
			t.Fatalf("digits16(%q) = %d, %d, %d", b, v, a, f)
		}
		b = []byte(`123456789012345","x"`)
		if v, a, f := digits16(&b[0]); v != 123456789012345 || a != 15 || f != -1 {
			t.Fatalf("digits16(%q) = %d, %d, %d", b, v, a, f)
		}
	}
	digits := "98765432109876543210"
	tails := []string{`"`, `","asset":"BENCH"`, `.5"` + strings.Repeat("x", 16), `0`, `-`, `e`, strings.Repeat(`"`, 20)}
	for a := 0; a <= 19; a++ {
		for f := -1; f <= 19; f++ {
			lit := digits[:a]
			if f >= 0 {
				lit += "." + digits[20-f:]
			}
			for _, lead := range []string{"", "-", "0", "-0", "--", "-."} {
				for _, tail := range tails {
					s := lead + lit + tail
					literalBoth(t, s, true)
					literalBoth(t, s, false)
					literalBoth(t, s+strings.Repeat(`"`, 16), true)
				}
			}
		}
	}
	for _, base := range []string{`1000000004.73","balance":"-1000000004.73"`, `0.86","asset":"BENCH","reference"`} {
		for _, start := range []string{"", "-"} {
			s := []byte(start + base)
			for k := 0; k < 18; k++ {
				for c := 0; c < 256; c++ {
					saved := s[k]
					s[k] = byte(c)
					literalBoth(t, string(s), true)
					literalBoth(t, string(s), false)
					s[k] = saved
				}
			}
		}
	}
}

// FuzzLiteralPrefix: both paths read any string alike.
func FuzzLiteralPrefix(f *testing.F) {
	f.Add(`1000000004.73","balance":"`, true)
	f.Add(`-0.86"`+strings.Repeat(" ", 16), true)
	f.Add(`123456789012345.5"`, false)
	f.Fuzz(func(t *testing.T, s string, signed bool) {
		literalBoth(t, s, signed)
	})
}

// TestLiteral16Agrees holds literal16 (the assembly, where it runs) to
// literal16Go, its definition, on windows of 17 bytes of digits, dots,
// signs and others, with and without a sign allowed: 400,000 random ones
// and each with a dot or a non-digit at every place after a run of
// digits of every length (including zeros, for the leading zero).
func TestLiteral16Agrees(t *testing.T) {
	check := func(w []byte) {
		t.Helper()
		for _, signed := range []bool{false, true} {
			v0, p0, n0 := literal16Go(&w[0], signed)
			v1, p1, n1 := literal16(&w[0], signed)
			if v0 != v1 || p0 != p1 || n0 != n1 {
				t.Fatalf("literal16(%q, %v) = %d %d %d, literal16Go %d %d %d", w, signed, v1, p1, n1, v0, p0, n0)
			}
		}
	}
	r := rand.New(rand.NewPCG(16, 17))
	const alphabet = "01234567890123456789..-\"x/:"
	w := make([]byte, 17)
	for range 400_000 {
		for k := range w {
			w[k] = alphabet[r.IntN(len(alphabet))]
		}
		check(w)
	}
	for _, lead := range []string{"", "-", "--"} {
		for run := 0; run <= 17; run++ {
			for at := 0; at < 17; at++ {
				for _, c := range []byte{'.', '"', 'x', '-'} {
					for _, d := range []byte{'0', '7'} {
						for k := range w {
							w[k] = '9'
						}
						copy(w, lead)
						for k := len(lead); k < len(lead)+run && k < 17; k++ {
							w[k] = d
						}
						w[at] = c
						check(w)
					}
				}
			}
		}
	}
}

// FuzzLiteral16: literal16 (the assembly, where it runs) reads any 17
// bytes, random or hostile, as literal16Go does, and as ParseLiteral
// reads the literal it finds: a literal of n bytes is ParseLiteral's
// value and places of those bytes, followed by a byte that is not part
// of it; a refused one (n 0) is one that literalPrefix refuses too.
func FuzzLiteral16(f *testing.F) {
	f.Add([]byte(`1000000004.73","balance":"`), true)
	f.Add([]byte(`-0.86"`), true)
	f.Add([]byte(`0.53","asset":"`), false)
	f.Add([]byte(`123456789012345.5"`), false)
	f.Add([]byte(`00.5"`), false)
	f.Add([]byte(`5."`), true)
	f.Add([]byte(`-.5"`), true)
	f.Add([]byte(`1.2.3"`), false)
	f.Fuzz(func(t *testing.T, in []byte, signed bool) {
		w := make([]byte, 17)
		copy(w, in)
		v0, p0, n0 := literal16Go(&w[0], signed)
		v1, p1, n1 := literal16(&w[0], signed)
		if v0 != v1 || p0 != p1 || n0 != n1 {
			t.Fatalf("literal16(%q, %v) = %d %d %d, literal16Go %d %d %d", w, signed, v1, p1, n1, v0, p0, n0)
		}
		_, _, end, ok := literalPrefix(string(w), signed)
		switch {
		case n1 > 0:
			v, places, ok := ParseLiteral(string(w[:n1]), signed)
			if !ok || v != AmountFromInt64(v1) || places != p1 || end != n1 {
				t.Fatalf("literal16(%q, %v) = %d %d %d, ParseLiteral %v %d %v, end %d", w, signed, v1, p1, n1, v, places, ok, end)
			}
		case n1 == 0 && ok:
			t.Fatalf("literal16(%q, %v) refused, literalPrefix takes %d bytes", w, signed, end)
		}
	})
}
