package mixin

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/domain"
)

// maxAmountLen bounds the amount literal read.
const maxAmountLen = 64

var amountRE = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// parseAmount reads Mixin's amount, a decimal string (a JSON number is
// taken too): more than 8 decimals (after trailing zeros) or anything
// but a decimal is 10002, zero or less is 20120. It returns the native
// literal.
func parseAmount(raw json.RawMessage) (string, *Error) {
	s := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", invalidField("amount: a decimal string is required.")
		}
	}
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return "", invalidField("amount: is required.")
	}
	if len(s) > maxAmountLen || !amountRE.MatchString(s) {
		return "", invalidField(fmt.Sprintf("amount: %q is not a decimal number.", s))
	}
	if _, frac, ok := strings.Cut(s, "."); ok && len(strings.TrimRight(frac, "0")) > Scale {
		return "", invalidField(fmt.Sprintf("amount: %q has more than %d decimals.", s, Scale))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return "", invalidField(fmt.Sprintf("amount: %q is not a decimal number.", s))
	}
	if d.Sign() <= 0 {
		return "", newError(CodeAmountTooSmall, "The amount is too small: it must be positive.")
	}
	lit := d.String()
	if err := domain.CheckAmountLiteral(lit); err != nil {
		return "", invalidField(fmt.Sprintf("amount: %v.", err))
	}
	return lit, nil
}
