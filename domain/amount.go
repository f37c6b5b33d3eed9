package domain

import (
	"math/bits"
	"strconv"

	"github.com/shopspring/decimal"
)

// MaxScale is the largest number of decimal places an asset may have.
const MaxScale = 18

// maxAmountDigits bounds the digits of a parsed amount (integer and fraction
// together, at the asset's scale): 10^38 < 2^127, so every parsed amount fits
// in an Amount with room to spare.
const maxAmountDigits = 38

// Amount is an exact signed quantity in an asset's minor units (for USD at
// scale 2, 1 means 0.01), held as a 128-bit two's-complement integer. It
// never passes through a float. The zero value is zero.
type Amount struct {
	hi int64
	lo uint64
}

// AmountFromInt64 returns n minor units.
func AmountFromInt64(n int64) Amount {
	if n < 0 {
		return Amount{hi: -1, lo: uint64(n)}
	}
	return Amount{lo: uint64(n)}
}

// Sign returns -1, 0 or 1.
func (a Amount) Sign() int {
	switch {
	case a.hi < 0:
		return -1
	case a.hi == 0 && a.lo == 0:
		return 0
	default:
		return 1
	}
}

// IsZero reports whether a is zero.
func (a Amount) IsZero() bool { return a.hi == 0 && a.lo == 0 }

// Cmp compares a and b and returns -1, 0 or 1.
func (a Amount) Cmp(b Amount) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

// Add returns a+b and false when the sum overflows 128 bits.
func (a Amount) Add(b Amount) (Amount, bool) {
	lo, carry := bits.Add64(a.lo, b.lo, 0)
	hi, _ := bits.Add64(uint64(a.hi), uint64(b.hi), carry)
	r := Amount{hi: int64(hi), lo: lo}
	// Signed overflow: both operands share a sign that the result lacks.
	if (a.hi^r.hi)&(b.hi^r.hi) < 0 {
		return Amount{}, false
	}
	return r, true
}

// Sub returns a-b and false when the difference overflows 128 bits.
func (a Amount) Sub(b Amount) (Amount, bool) {
	lo, borrow := bits.Sub64(a.lo, b.lo, 0)
	hi, _ := bits.Sub64(uint64(a.hi), uint64(b.hi), borrow)
	r := Amount{hi: int64(hi), lo: lo}
	// Signed overflow: operands of different signs and the result's sign
	// differs from a's.
	if (a.hi^b.hi)&(a.hi^r.hi) < 0 {
		return Amount{}, false
	}
	return r, true
}

// Neg returns -a. Amounts in the ledger stay far from the 128-bit minimum,
// where negation would overflow.
func (a Amount) Neg() Amount {
	lo, borrow := bits.Sub64(0, a.lo, 0)
	hi, _ := bits.Sub64(0, uint64(a.hi), borrow)
	return Amount{hi: int64(hi), lo: lo}
}

// Format renders a with exactly scale decimal places: "25.50", "-3.00", "7".
func (a Amount) Format(scale int) string {
	return string(a.AppendFormat(nil, scale))
}

// AppendFormat appends the Format of a to dst.
func (a Amount) AppendFormat(dst []byte, scale int) []byte {
	neg := a.Sign() < 0
	if neg {
		a = a.Neg()
	}
	digits := a.appendUnsigned(make([]byte, 0, 40))
	if len(digits) <= scale { // pad so there is at least one integer digit
		pad := make([]byte, scale+1-len(digits), scale+1)
		for i := range pad {
			pad[i] = '0'
		}
		digits = append(pad, digits...)
	}
	if neg {
		dst = append(dst, '-')
	}
	intLen := len(digits) - scale
	dst = append(dst, digits[:intLen]...)
	if scale > 0 {
		dst = append(dst, '.')
		dst = append(dst, digits[intLen:]...)
	}
	return dst
}

// appendUnsigned appends the decimal digits of a, read as unsigned.
func (a Amount) appendUnsigned(dst []byte) []byte {
	const chunk = 1e19 // the largest power of ten below 2^64
	hi, lo := uint64(a.hi), a.lo
	if hi == 0 {
		return strconv.AppendUint(dst, lo, 10)
	}
	qhi := hi / chunk
	qlo, r := bits.Div64(hi%chunk, lo, chunk)
	dst = Amount{hi: int64(qhi), lo: qlo}.appendUnsigned(dst)
	s := strconv.FormatUint(r, 10)
	for i := len(s); i < 19; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// Decimal returns a as a decimal at the given scale, for callers that total
// or compare amounts outside the hot path.
func (a Amount) Decimal(scale int) decimal.Decimal {
	d, err := decimal.NewFromString(a.Format(scale))
	if err != nil { // Format always yields a valid literal
		panic("domain: formatted amount does not parse: " + err.Error())
	}
	return d
}

// ParseAmount reads a positive or zero decimal literal ("25", "25.5",
// "0.01") as minor units of an asset with the given scale. It accepts only
// digits with at most one decimal point: no sign, exponent, spaces or
// leading zeros. More decimal places than scale is an error, never a
// rounding. Sign checks (zero, negative) belong to the caller.
func ParseAmount(s string, scale int) (Amount, error) {
	if scale < 0 || scale > MaxScale {
		return Amount{}, &AmountSyntaxError{Amount: s, Reason: "scale out of range"}
	}
	intPart, frac, err := splitAmountLiteral(s)
	if err != nil {
		return Amount{}, err
	}
	if len(frac) > scale {
		return Amount{}, &AmountScaleError{Amount: s, Places: len(frac), Scale: scale}
	}
	if len(intPart)+scale > maxAmountDigits {
		return Amount{}, &AmountSyntaxError{Amount: s, Reason: "too many digits"}
	}
	var v Amount
	ten := AmountFromInt64(10)
	for _, digits := range [2]string{intPart, frac} {
		for i := 0; i < len(digits); i++ {
			v = v.mulSmall(ten).addSmall(uint64(digits[i] - '0'))
		}
	}
	for i := len(frac); i < scale; i++ {
		v = v.mulSmall(ten)
	}
	return v, nil
}

// CheckAmountLiteral reports whether s is a well-formed amount literal,
// whatever the asset's scale; see ParseAmount.
func CheckAmountLiteral(s string) error {
	intPart, frac, err := splitAmountLiteral(s)
	if err == nil && len(intPart)+len(frac) > maxAmountDigits {
		err = &AmountSyntaxError{Amount: s, Reason: "too many digits"}
	}
	return err
}

func splitAmountLiteral(s string) (intPart, frac string, err error) {
	if s == "" {
		return "", "", &AmountSyntaxError{Amount: s, Reason: "empty"}
	}
	if len(s) > 2*maxAmountDigits {
		return "", "", &AmountSyntaxError{Amount: s[:16] + "...", Reason: "too long"}
	}
	intPart = s
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			intPart, frac = s[:i], s[i+1:]
			if frac == "" {
				return "", "", &AmountSyntaxError{Amount: s, Reason: "no digits after the decimal point"}
			}
			for j := 0; j < len(frac); j++ {
				if frac[j] < '0' || frac[j] > '9' {
					return "", "", &AmountSyntaxError{Amount: s, Reason: "not a plain decimal number"}
				}
			}
			break
		}
		if c == '-' && i == 0 {
			return "", "", &AmountSyntaxError{Amount: s, Reason: "must be positive"}
		}
		if c < '0' || c > '9' {
			return "", "", &AmountSyntaxError{Amount: s, Reason: "not a plain decimal number"}
		}
	}
	if intPart == "" {
		return "", "", &AmountSyntaxError{Amount: s, Reason: "no digits before the decimal point"}
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return "", "", &AmountSyntaxError{Amount: s, Reason: "leading zero"}
	}
	return intPart, frac, nil
}

// mulSmall returns a*m for a non-negative a and a small non-negative m,
// within the bound that maxAmountDigits guarantees.
func (a Amount) mulSmall(m Amount) Amount {
	hiLo, lo := bits.Mul64(a.lo, m.lo)
	return Amount{hi: int64(uint64(a.hi)*m.lo + hiLo), lo: lo}
}

func (a Amount) addSmall(n uint64) Amount {
	lo, carry := bits.Add64(a.lo, n, 0)
	return Amount{hi: a.hi + int64(carry), lo: lo}
}

// ParseBalance reads a balance as Format writes it: like ParseAmount, but a
// leading '-' is allowed, since balances (the issuer's, overdrafts) may be
// negative.
func ParseBalance(s string, scale int) (Amount, error) {
	if len(s) > 1 && s[0] == '-' {
		a, err := ParseAmount(s[1:], scale)
		return a.Neg(), err
	}
	return ParseAmount(s, scale)
}
