package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Exchange rates: the rate table an admin sets and the rate a transfer may
// carry. A rate is units of the quote asset per unit of the base asset
// (for base USD and quote EUR, 0.92 means one dollar buys 0.92 euros).
// Inverse rates are never implied: USD/EUR and EUR/USD are set on their
// own (ADR 0019).

// EventRateSet is the event of a rate set in the table.
const EventRateSet EventType = "RateSet"

// Bounds of a rate literal: digits in all and after the point. 24 digits
// with 18 places reach from 10^-18 to under 10^6 and keep amount × rate
// exact within 62 digits before it is rounded to the quote asset's scale.
const (
	maxRateDigits = 24
	maxRatePlaces = 18
)

// MaxRates bounds the rate table: one rate per ordered pair of assets is
// all it can hold, and the snapshot reads it back with this bound.
const MaxRates = 1 << 16

// RateSet asks to set the rate of Base in Quote. It is also the payload
// of RateSet; Rate is journaled as ParseRate normalizes it.
type RateSet struct {
	Base  string `json:"base"`
	Quote string `json:"quote"`
	Rate  string `json:"rate"`
}

// Validate checks the request's shape: two different asset codes and a
// rate literal within bounds.
func (r *RateSet) Validate() error {
	if err := validateAssetCode("base", r.Base); err != nil {
		return err
	}
	if err := validateAssetCode("quote", r.Quote); err != nil {
		return err
	}
	if r.Base == r.Quote {
		return &FieldError{Field: "quote", Reason: "must differ from base: an asset's rate in itself is 1"}
	}
	_, err := ParseRate("rate", r.Rate)
	return err
}

// ParseRate reads a rate literal: a positive plain decimal ("0.92", "150")
// of at most 24 digits, at most 18 after the point. It returns the rate
// normalized (no trailing fractional zeros: "1.10" is "1.1"), which is how
// the journal records it and how two requests' rates are compared.
func ParseRate(field, s string) (string, error) {
	intPart, frac, err := splitAmountLiteral(s)
	switch {
	case err != nil:
		return "", &FieldError{Field: field, Reason: "must be a positive decimal string"}
	case len(frac) > maxRatePlaces || len(intPart)+len(frac) > maxRateDigits:
		return "", &FieldError{Field: field, Reason: fmt.Sprintf("at most %d digits, %d after the decimal point", maxRateDigits, maxRatePlaces)}
	case isZeroLiteral(s):
		return "", &FieldError{Field: field, Reason: "must be greater than zero"}
	}
	if frac = strings.TrimRight(frac, "0"); frac == "" {
		return intPart, nil
	}
	return intPart + "." + frac, nil
}

// ratePair names a rate: base asset, quote asset.
type ratePair struct{ base, quote string }

// Rate is one rate of the table, as Rates lists it.
type Rate struct {
	Base, Quote, Rate string
}

// Rates returns the rate table sorted by base, then quote.
func (s *State) Rates() []Rate {
	out := make([]Rate, 0, len(s.rates))
	for p, r := range s.rates {
		out = append(out, Rate{Base: p.base, Quote: p.quote, Rate: r})
	}
	slices.SortFunc(out, func(a, b Rate) int {
		if c := strings.Compare(a.Base, b.Base); c != 0 {
			return c
		}
		return strings.Compare(a.Quote, b.Quote)
	})
	return out
}

// decideRate sets a rate: an admin's decision, since a rate decides how
// much of one asset a unit of another buys from the ledger's FX position.
// Both assets must be defined. Setting a rate always journals it, the same
// rate again included, so the journal shows every decision.
func (s *State) decideRate(cmd Command, now time.Time) Decision {
	r := *cmd.Rate
	if !cmd.Actor.privileged() {
		return Decision{Outcome: Rejected, Err: reject(CodeForbidden, "a token for %q may not set exchange rates: an admin right (docs/security.md)", cmd.Actor.Subject)}
	}
	if err := r.Validate(); err != nil {
		return Decision{Outcome: Rejected, Err: asCoded(err)}
	}
	r.Rate, _ = ParseRate("rate", r.Rate)
	for _, code := range [2]string{r.Base, r.Quote} {
		if _, ok := s.assets[code]; !ok {
			return Decision{Outcome: Rejected, Err: reject(CodeAssetNotFound, "asset %s is not defined", code)}
		}
	}
	if _, ok := s.rates[ratePair{r.Base, r.Quote}]; !ok && len(s.rates) >= MaxRates {
		return Decision{Outcome: Rejected, Err: reject(CodeValidationFailed, "the rate table holds at most %d rates", MaxRates)}
	}
	ev := s.newEvent(EventRateSet, cmd.Ref, now)
	ev.Rate = &r
	s.mustApply(ev)
	return Decision{Outcome: Updated, Event: ev}
}

// RateSet records the rate; its assets must exist.
func (h stateApplier) RateSet(ev *Event, r *RateSet) error {
	s := h.s
	norm, err := ParseRate("rate", r.Rate)
	if err != nil || norm != r.Rate {
		return fmt.Errorf("event %d: rate %q is not a normalized rate: %w", ev.Seq, r.Rate, ErrInconsistent)
	}
	base, okB := s.assets[r.Base]
	quote, okQ := s.assets[r.Quote]
	if !okB || !okQ || base == quote {
		return fmt.Errorf("event %d sets the rate of %s in %s: %w", ev.Seq, r.Base, r.Quote, ErrInconsistent)
	}
	if s.rates == nil {
		s.rates = make(map[ratePair]string)
	}
	s.rates[ratePair{base.code, quote.code}] = strings.Clone(r.Rate)
	return nil
}

func (payloadRules) RateSet(_ *Event, r *RateSet) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if norm, _ := ParseRate("rate", r.Rate); norm != r.Rate {
		return fmt.Errorf("rate %q is not normalized (%s)", r.Rate, norm)
	}
	return nil
}

// Convert returns amount (minor units at fromScale) times rate, rounded
// down to minor units at toScale: what a conversion credits. Rounding
// down means the recipient never gets more than the rate gives; the
// remainder stays with the FX position, so rounding creates no money.
// ok is false when the result has more than 38 digits.
func Convert(amount Amount, fromScale int, rate string, toScale int) (Amount, bool) {
	r, err := decimal.NewFromString(rate)
	if err != nil {
		return Amount{}, false
	}
	d := amount.Decimal(fromScale).Mul(r).Shift(int32(toScale)).Floor()
	out, err := ParseAmount(d.String(), 0)
	return out, err == nil
}
