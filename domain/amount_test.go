package domain_test

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/domain"
)

// The 128-bit two's-complement edges, written out so that a Format bug
// cannot hide behind a helper that uses Format itself.
const (
	maxAmountText = "170141183460469231731687303715884105727"
	minAmountText = "-170141183460469231731687303715884105728"
)

func mustParse(t testing.TB, s string, scale int) domain.Amount {
	t.Helper()
	a, err := domain.ParseAmount(s, scale)
	if err != nil {
		t.Fatalf("ParseAmount(%q, %d): %v", s, scale, err)
	}
	return a
}

func mustAdd(t testing.TB, a, b domain.Amount) domain.Amount {
	t.Helper()
	r, ok := a.Add(b)
	if !ok {
		t.Fatalf("%s + %s overflowed", a.Format(0), b.Format(0))
	}
	return r
}

func mustSub(t testing.TB, a, b domain.Amount) domain.Amount {
	t.Helper()
	r, ok := a.Sub(b)
	if !ok {
		t.Fatalf("%s - %s overflowed", a.Format(0), b.Format(0))
	}
	return r
}

// maxAmount builds 2^127-1 from parseable pieces: no literal above 38 digits
// is accepted, so the edge is reached by addition.
func maxAmount(t testing.TB) domain.Amount {
	t.Helper()
	tenTo37 := mustParse(t, "1"+strings.Repeat("0", 37), 0)
	var v domain.Amount
	for range 17 {
		v = mustAdd(t, v, tenTo37)
	}
	v = mustAdd(t, v, mustParse(t, "141183460469231731687303715884105727", 0))
	if got := v.Format(0); got != maxAmountText {
		t.Fatalf("building the maximum: got %s, want %s", got, maxAmountText)
	}
	return v
}

func TestParseAmountValid(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		want  int64 // minor units
	}{
		{"0.01", 2, 1},
		{"25", 2, 2500},
		{"25.5", 2, 2550},
		{"25.50", 2, 2550},
		{"0", 2, 0},
		{"0.00", 2, 0},
		{"0", 0, 0},
		{"7", 0, 7},
		{"10.10", 2, 1010},
		{"1.5", 8, 150000000},
		{"0.000000000000000001", 18, 1},
		{"9.223372036854775807", 18, math.MaxInt64},
	}
	for _, tc := range tests {
		got, err := domain.ParseAmount(tc.in, tc.scale)
		if err != nil {
			t.Errorf("ParseAmount(%q, %d): unexpected error %v", tc.in, tc.scale, err)
			continue
		}
		if want := domain.AmountFromInt64(tc.want); got.Cmp(want) != 0 {
			t.Errorf("ParseAmount(%q, %d) = %s minor units, want %d", tc.in, tc.scale, got.Format(0), tc.want)
		}
	}
}

func TestParseAmountLargest(t *testing.T) {
	nines := strings.Repeat("9", 38)
	tests := []struct {
		in    string
		scale int
		want  string // Format at scale
	}{
		{nines, 0, nines},
		{strings.Repeat("9", 36), 2, strings.Repeat("9", 36) + ".00"},
		{strings.Repeat("9", 20) + "." + strings.Repeat("9", 18), 18, strings.Repeat("9", 20) + "." + strings.Repeat("9", 18)},
		{"18446744073709551616", 0, "18446744073709551616"}, // 2^64
	}
	for _, tc := range tests {
		if got := mustParse(t, tc.in, tc.scale).Format(tc.scale); got != tc.want {
			t.Errorf("ParseAmount(%q, %d).Format = %s, want %s", tc.in, tc.scale, got, tc.want)
		}
	}
}

func TestParseAmountScaleError(t *testing.T) {
	tests := []struct {
		in     string
		scale  int
		places int
	}{
		{"1.001", 2, 3},
		{"0.1", 0, 1},
		{"1.0000000000000000001", 18, 19},
		// Trailing zeros still count: an amount is never silently rescaled.
		{"1.000", 2, 3},
	}
	for _, tc := range tests {
		_, err := domain.ParseAmount(tc.in, tc.scale)
		var se *domain.AmountScaleError
		if !errors.As(err, &se) {
			t.Errorf("ParseAmount(%q, %d): error %v (%T), want *AmountScaleError", tc.in, tc.scale, err, err)
			continue
		}
		if se.Places != tc.places || se.Scale != tc.scale {
			t.Errorf("ParseAmount(%q, %d): places %d scale %d, want %d %d", tc.in, tc.scale, se.Places, se.Scale, tc.places, tc.scale)
		}
		if se.Code() != domain.CodeInvalidAmount {
			t.Errorf("AmountScaleError code %s, want %s", se.Code(), domain.CodeInvalidAmount)
		}
	}
}

func TestParseAmountSyntaxError(t *testing.T) {
	tests := []struct {
		in    string
		scale int
	}{
		{"", 2},
		{"-1", 2},
		{"-0", 2},
		{"1e3", 2},
		{"1E3", 2},
		{"01", 2},
		{"00", 2},
		{"00.5", 2},
		{".5", 2},
		{"5.", 2},
		{".", 2},
		{" 1", 2},
		{"1 ", 2},
		{"+1", 2},
		{"1,0", 2},
		{"1.0.0", 2},
		{"1..0", 2},
		{"0x10", 2},
		{"NaN", 2},
		{"Infinity", 2},
		{"inf", 2},
		{"\uff11", 2},        // full-width digit one
		{"1\u0660", 2},       // Arabic-Indic zero
		{"1\x00", 2},         // NUL
		{"1.5\n", 2},         // trailing newline
		{"1_000", 2},         // Go digit separator
		{"1.-5", 2},          // sign inside the fraction
		{"1." + "\uff15", 2}, // full-width digit in the fraction
		{strings.Repeat("9", 39), 0},
		{strings.Repeat("1", 39), 0},
		{"1" + strings.Repeat("0", 38), 0},
		// 37 integer digits at scale 2 are 39 digits of minor units.
		{strings.Repeat("9", 37), 2},
		{strings.Repeat("9", 21), 18},
		{strings.Repeat("9", 80), 2}, // beyond the length guard
		{strings.Repeat("9", 38) + "." + strings.Repeat("9", 38), 38},
	}
	for _, tc := range tests {
		v, err := domain.ParseAmount(tc.in, tc.scale)
		var se *domain.AmountSyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseAmount(%q, %d) = %s, %v (%T); want *AmountSyntaxError", tc.in, tc.scale, v.Format(tc.scale), err, err)
			continue
		}
		if se.Code() != domain.CodeInvalidAmount {
			t.Errorf("AmountSyntaxError code %s, want %s", se.Code(), domain.CodeInvalidAmount)
		}
	}
}

func TestCheckAmountLiteral(t *testing.T) {
	for _, ok := range []string{"0", "1", "0.5", "25.50", strings.Repeat("9", 38), "1." + strings.Repeat("0", 37)} {
		if err := domain.CheckAmountLiteral(ok); err != nil {
			t.Errorf("CheckAmountLiteral(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-1", "01", ".5", "5.", "1e3", strings.Repeat("9", 39), "1." + strings.Repeat("0", 38)} {
		var se *domain.AmountSyntaxError
		if err := domain.CheckAmountLiteral(bad); !errors.As(err, &se) {
			t.Errorf("CheckAmountLiteral(%q) = %v, want *AmountSyntaxError", bad, err)
		}
	}
}

func TestFormat(t *testing.T) {
	tenTo19 := mustParse(t, "10000000000000000000", 0)
	tests := []struct {
		name  string
		a     domain.Amount
		scale int
		want  string
	}{
		{"zero scale 0", domain.Amount{}, 0, "0"},
		{"zero scale 2", domain.Amount{}, 2, "0.00"},
		{"zero scale 18", domain.Amount{}, 18, "0.000000000000000000"},
		{"from int64 zero", domain.AmountFromInt64(0), 2, "0.00"},
		{"one cent", domain.AmountFromInt64(1), 2, "0.01"},
		{"one wei", domain.AmountFromInt64(1), 18, "0.000000000000000001"},
		{"whole", domain.AmountFromInt64(2550), 2, "25.50"},
		{"scale 0", domain.AmountFromInt64(7), 0, "7"},
		{"negative cent", domain.AmountFromInt64(-1), 2, "-0.01"},
		{"negative", domain.AmountFromInt64(-12345), 2, "-123.45"},
		{"negative scale 0", domain.AmountFromInt64(-3), 0, "-3"},
		{"negative scale 18", domain.AmountFromInt64(-5), 18, "-0.000000000000000005"},
		{"max int64", domain.AmountFromInt64(math.MaxInt64), 0, "9223372036854775807"},
		{"min int64", domain.AmountFromInt64(math.MinInt64), 0, "-9223372036854775808"},
		{"min int64 scale 2", domain.AmountFromInt64(math.MinInt64), 2, "-92233720368547758.08"},
		{"2^64", mustAdd(t, mustAdd(t, domain.AmountFromInt64(math.MaxInt64), domain.AmountFromInt64(math.MaxInt64)), domain.AmountFromInt64(2)), 0, "18446744073709551616"},
		{"2^64 scale 2", mustParse(t, "18446744073709551616", 0), 2, "184467440737095516.16"},
		{"-2^64", mustParse(t, "18446744073709551616", 0).Neg(), 2, "-184467440737095516.16"},
		// A low 19-digit chunk with leading zeros must be padded.
		{"10^19", tenTo19, 0, "10000000000000000000"},
		{"10^19+5", mustAdd(t, tenTo19, domain.AmountFromInt64(5)), 0, "10000000000000000005"},
		{"10^19-1", mustSub(t, tenTo19, domain.AmountFromInt64(1)), 0, "9999999999999999999"},
		{"10^38-1", mustParse(t, strings.Repeat("9", 38), 0), 0, strings.Repeat("9", 38)},
		{"10^38-1 scale 18", mustParse(t, strings.Repeat("9", 38), 0), 18, strings.Repeat("9", 20) + "." + strings.Repeat("9", 18)},
		{"-(10^38-1) scale 2", mustParse(t, strings.Repeat("9", 38), 0).Neg(), 2, "-" + strings.Repeat("9", 36) + ".99"},
		{"10^37 scale 18", mustParse(t, "1"+strings.Repeat("0", 37), 0), 18, "1" + strings.Repeat("0", 19) + "." + strings.Repeat("0", 18)},
		{"max", maxAmount(t), 0, maxAmountText},
		{"min", mustSub(t, maxAmount(t).Neg(), domain.AmountFromInt64(1)), 0, minAmountText},
		{"max scale 18", maxAmount(t), 18, "170141183460469231731.687303715884105727"},
	}
	for _, tc := range tests {
		if got := tc.a.Format(tc.scale); got != tc.want {
			t.Errorf("%s: Format(%d) = %q, want %q", tc.name, tc.scale, got, tc.want)
		}
		if got := string(tc.a.AppendFormat([]byte("x="), tc.scale)); got != "x="+tc.want {
			t.Errorf("%s: AppendFormat = %q, want %q", tc.name, got, "x="+tc.want)
		}
	}
}

func TestAddSubEdges(t *testing.T) {
	one := domain.AmountFromInt64(1)
	minusOne := domain.AmountFromInt64(-1)
	maxA := maxAmount(t)
	minA := mustSub(t, maxA.Neg(), one)
	nines := mustParse(t, strings.Repeat("9", 38), 0)

	if _, ok := maxA.Add(one); ok {
		t.Error("max + 1 did not report overflow")
	}
	if _, ok := one.Add(maxA); ok {
		t.Error("1 + max did not report overflow")
	}
	if _, ok := maxA.Add(maxA); ok {
		t.Error("max + max did not report overflow")
	}
	if _, ok := minA.Add(minusOne); ok {
		t.Error("min + -1 did not report overflow")
	}
	if _, ok := minA.Add(minA); ok {
		t.Error("min + min did not report overflow")
	}
	if _, ok := minA.Sub(one); ok {
		t.Error("min - 1 did not report overflow")
	}
	if _, ok := maxA.Sub(minusOne); ok {
		t.Error("max - -1 did not report overflow")
	}
	if _, ok := maxA.Sub(minA); ok {
		t.Error("max - min did not report overflow")
	}
	if _, ok := domain.AmountFromInt64(0).Sub(minA); ok {
		t.Error("0 - min did not report overflow")
	}
	if _, ok := nines.Add(nines); ok {
		t.Error("(10^38-1) + (10^38-1) did not report overflow")
	}
	if _, ok := nines.Neg().Sub(nines); ok {
		t.Error("-(10^38-1) - (10^38-1) did not report overflow")
	}

	// Right at the edges nothing overflows.
	if got := mustAdd(t, minA, maxA).Format(0); got != "-1" {
		t.Errorf("min + max = %s, want -1", got)
	}
	if got := mustSub(t, maxA, one).Format(0); got != "170141183460469231731687303715884105726" {
		t.Errorf("max - 1 = %s", got)
	}
	if got := mustSub(t, maxA, maxA).Format(0); got != "0" {
		t.Errorf("max - max = %s", got)
	}
	if got := mustSub(t, minA, minA).Format(0); got != "0" {
		t.Errorf("min - min = %s", got)
	}
	if got := mustSub(t, minusOne, maxA).Format(0); got != minAmountText {
		t.Errorf("-1 - max = %s, want %s", got, minAmountText)
	}
	if got := mustAdd(t, maxA, minusOne).Format(0); got != "170141183460469231731687303715884105726" {
		t.Errorf("max + -1 = %s", got)
	}
	// Carry and borrow across the 64-bit halves.
	u64max := mustParse(t, "18446744073709551615", 0)
	if got := mustAdd(t, u64max, one).Format(0); got != "18446744073709551616" {
		t.Errorf("2^64-1 + 1 = %s", got)
	}
	if got := mustSub(t, mustAdd(t, u64max, one), one).Format(0); got != "18446744073709551615" {
		t.Errorf("2^64 - 1 = %s", got)
	}
	if got := mustSub(t, domain.Amount{}, u64max).Format(0); got != "-18446744073709551615" {
		t.Errorf("0 - (2^64-1) = %s", got)
	}
	// A failed operation yields the zero value so that no caller can use a
	// wrapped-around result by accident.
	if r, ok := maxA.Add(one); ok || !r.IsZero() {
		t.Errorf("overflowing Add returned %s, %v; want 0, false", r.Format(0), ok)
	}
}

func TestCmpSign(t *testing.T) {
	maxA := maxAmount(t)
	minA := mustSub(t, maxA.Neg(), domain.AmountFromInt64(1))
	u64 := mustParse(t, "18446744073709551616", 0)
	// Ascending order; every pair is compared both ways.
	ordered := []domain.Amount{
		minA,
		u64.Neg(),
		domain.AmountFromInt64(math.MinInt64),
		domain.AmountFromInt64(-1),
		{},
		domain.AmountFromInt64(1),
		domain.AmountFromInt64(math.MaxInt64),
		mustParse(t, "18446744073709551615", 0),
		u64,
		maxA,
	}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Cmp(b); got != want {
				t.Errorf("Cmp(%s, %s) = %d, want %d", a.Format(0), b.Format(0), got, want)
			}
		}
		want := 0
		switch {
		case a.Format(0)[0] == '-':
			want = -1
		case a.Format(0) != "0":
			want = 1
		}
		if a.Sign() != want {
			t.Errorf("Sign(%s) = %d, want %d", a.Format(0), a.Sign(), want)
		}
		if a.IsZero() != (want == 0) {
			t.Errorf("IsZero(%s) = %v", a.Format(0), a.IsZero())
		}
	}
}

func TestNeg(t *testing.T) {
	for _, s := range []string{"0", "1", "18446744073709551616", strings.Repeat("9", 38)} {
		a := mustParse(t, s, 0)
		if a.Neg().Neg().Cmp(a) != 0 {
			t.Errorf("-(-%s) != %s", s, s)
		}
		if got, ok := a.Add(a.Neg()); !ok || !got.IsZero() {
			t.Errorf("%s + -%s = %s, %v", s, s, got.Format(0), ok)
		}
	}
}

// randLiteral returns a random non-negative literal that parses at scale:
// digit counts are spread so that both halves of the 128-bit value and the
// 38-digit bound get exercised.
func randLiteral(r *rand.Rand, scale int) string {
	intDigits := 1 + r.IntN(max(1, 38-scale))
	fracDigits := r.IntN(scale + 1)
	var b strings.Builder
	b.WriteByte(byte('1' + r.IntN(9)))
	if r.IntN(8) == 0 {
		b.Reset()
		b.WriteByte('0')
		intDigits = 1
	}
	for i := 1; i < intDigits; i++ {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	if fracDigits > 0 {
		b.WriteByte('.')
		for range fracDigits {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
	}
	return b.String()
}

var (
	bigMax = func() *big.Int { v, _ := new(big.Int).SetString(maxAmountText, 10); return v }()
	bigMin = func() *big.Int { v, _ := new(big.Int).SetString(minAmountText, 10); return v }()
)

// fitsAmount reports whether d, in minor units at scale, fits 128 bits.
func fitsAmount(d decimal.Decimal, scale int) bool {
	v := d.Shift(int32(scale)).BigInt()
	return v.Cmp(bigMax) <= 0 && v.Cmp(bigMin) >= 0
}

func TestAmountMatchesDecimal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	scales := []int{0, 2, 8, 18}
	for i := range 20000 {
		scale := scales[r.IntN(len(scales))]
		sa, sb := randLiteral(r, scale), randLiteral(r, scale)
		a, b := mustParse(t, sa, scale), mustParse(t, sb, scale)
		da, db := decimal.RequireFromString(sa), decimal.RequireFromString(sb)

		if got, want := a.Format(scale), da.StringFixed(int32(scale)); got != want {
			t.Fatalf("#%d Format(%q @%d) = %s, want %s", i, sa, scale, got, want)
		}
		if !a.Decimal(scale).Equal(da) {
			t.Fatalf("#%d Decimal(%q @%d) = %s", i, sa, scale, a.Decimal(scale))
		}
		if back := mustParse(t, a.Format(scale), scale); back.Cmp(a) != 0 {
			t.Fatalf("#%d %q @%d does not round-trip through Format", i, sa, scale)
		}
		if got, want := a.Cmp(b), da.Cmp(db); got != want {
			t.Fatalf("#%d Cmp(%s, %s) = %d, want %d", i, sa, sb, got, want)
		}

		// Mix signs through subtraction from zero so that negative operands
		// are covered too.
		if r.IntN(2) == 0 {
			a, da = mustSub(t, domain.Amount{}, a), da.Neg()
		}
		if r.IntN(2) == 0 {
			b, db = mustSub(t, domain.Amount{}, b), db.Neg()
		}
		if a.Sign() != da.Sign() {
			t.Fatalf("#%d Sign(%s) = %d", i, da, a.Sign())
		}
		checkOp := func(op string, got domain.Amount, ok bool, want decimal.Decimal) {
			t.Helper()
			if fits := fitsAmount(want, scale); ok != fits {
				t.Fatalf("#%d %s %s %s @%d: ok=%v but the exact result %s fits=%v", i, da, op, db, scale, ok, want, fits)
			}
			if ok && got.Format(scale) != want.StringFixed(int32(scale)) {
				t.Fatalf("#%d %s %s %s @%d = %s, want %s", i, da, op, db, scale, got.Format(scale), want.StringFixed(int32(scale)))
			}
		}
		sum, ok := a.Add(b)
		checkOp("+", sum, ok, da.Add(db))
		diff, ok := a.Sub(b)
		checkOp("-", diff, ok, da.Sub(db))
	}
}

// TestAmountAccumulates drives sums towards the 128-bit edges, where a
// single pair of random 38-digit values rarely reaches.
func TestAmountAccumulates(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var acc domain.Amount
		dacc := decimal.Zero
		for range 40 {
			s := randLiteral(r, 0)
			v, dv := mustParse(t, s, 0), decimal.RequireFromString(s)
			var next domain.Amount
			var ok bool
			var want decimal.Decimal
			if r.IntN(3) == 0 {
				next, ok = acc.Sub(v)
				want = dacc.Sub(dv)
			} else {
				next, ok = acc.Add(v)
				want = dacc.Add(dv)
			}
			if fits := fitsAmount(want, 0); ok != fits {
				t.Fatalf("%s ± %s: ok=%v, exact %s fits=%v", dacc, dv, ok, want, fits)
			}
			if !ok {
				break
			}
			if next.Format(0) != want.String() {
				t.Fatalf("%s ± %s = %s, want %s", dacc, dv, next.Format(0), want)
			}
			acc, dacc = next, want
		}
	}
}
