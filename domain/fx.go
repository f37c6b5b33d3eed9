package domain

import (
	"errors"
	"fmt"
	"time"
)

// Cross-currency transfers (ADR 0019): a transfer between accounts of
// different assets converts the sender's amount at a rate and posts four
// entries through the reserved FX account, so that every asset still sums
// to zero.

// FX is the reserved FX account: one position per asset, no owner, no
// limit. Only conversions move it; a transfer naming it is refused, an
// admin's included, so its positions are exactly the conversions' sums.
const FX = "fx"

// EventTransferConverted is the event of a cross-currency transfer posted.
// TransferPosted keeps meaning "two entries of one asset".
const EventTransferConverted EventType = "TransferConverted"

// Where a conversion's rate came from.
const (
	RateFromRequest = "request" // the transfer's exchange_rate
	RateFromTable   = "table"   // the rate table's, when the transfer gave none
)

// ConvertedTransfer is the payload of TransferConverted: the resolved
// transfer (Amount and Asset the sender's, ExchangeRate the rate used),
// where the rate came from, what the recipient got and the four entries:
// debit of the sender (Asset), credit of FX (Asset), debit of FX
// (ToAsset), credit of the recipient (ToAsset).
type ConvertedTransfer struct {
	Transfer
	RateFrom string   `json:"rate_from"`
	ToAsset  string   `json:"to_asset"`
	ToAmount string   `json:"to_amount"`
	Entries  [4]Entry `json:"entries"`
}

// Request returns the transfer as its client asked for it: without the
// rate when the rate table supplied it. Its fingerprint is the id's.
func (c *ConvertedTransfer) Request() Transfer {
	t := c.Transfer
	if c.RateFrom == RateFromTable {
		t.ExchangeRate = ""
	}
	return t
}

// decideConversion posts r, a resolved cross-currency transfer that is not
// a replay, or journals its rejection.
func (s *State) decideConversion(cmd Command, r resolved, now time.Time) Decision {
	t := r.t
	rate, from := t.ExchangeRate, RateFromRequest
	if rate == "" {
		var ok bool
		if rate, ok = s.rates[ratePair{r.asset.code, r.toAsset.code}]; !ok {
			return s.rejectTransfer(cmd, t, reject(CodeRateNotFound,
				"no exchange rate from %s to %s: give exchange_rate or set the rate (PUT /v1/rates/%s/%s)",
				r.asset.code, r.toAsset.code, r.asset.code, r.toAsset.code), now)
		}
		from = RateFromTable
	}
	toAmount, ok := Convert(r.amount, r.asset.scale, rate, r.toAsset.scale)
	if !ok {
		return s.rejectTransfer(cmd, t, reject(CodeBalanceOverflow, "%s %s at %s exceeds the largest representable amount", t.Amount, t.Asset, rate), now)
	}
	if toAmount.IsZero() {
		return s.rejectTransfer(cmd, t, &AmountSyntaxError{Amount: t.Amount,
			Reason: fmt.Sprintf("converts to nothing: %s %s at %s is less than %s %s", t.Amount, t.Asset, rate, Amount{lo: 1}.Format(r.toAsset.scale), r.toAsset.code)}, now)
	}
	if err := s.checkDebit(r); err != nil {
		return s.rejectTransfer(cmd, t, err, now)
	}
	_, fromOK := r.from.balance.Sub(r.amount) // an unlimited sender has no floor to stop it
	_, fxA := r.asset.fx.Add(r.amount)
	_, fxB := r.toAsset.fx.Sub(toAmount)
	_, toOK := r.to.balance.Add(toAmount)
	if !fromOK || !fxA || !fxB || !toOK {
		return s.rejectTransfer(cmd, t, reject(CodeBalanceOverflow,
			"a balance of the conversion would exceed the largest representable amount"), now)
	}
	ev := s.newEvent(EventTransferConverted, cmd.Ref, now)
	c := &ConvertedTransfer{Transfer: t, RateFrom: from, ToAsset: r.toAsset.code, ToAmount: toAmount.Format(r.toAsset.scale)}
	c.ExchangeRate = rate
	ev.Conversion = c
	s.advance(ev)
	s.convert(r, toAmount, &c.Entries)
	key := keyOf(t.ID)
	s.rememberPosted(key, ev.Seq, &r.t, r.amount)
	s.undo.post(key)
	return Decision{Outcome: Posted, Event: ev}
}

// checkDebit refuses a debit of r.amount that would take r.from below its
// floor. The issuer and unlimited accounts have none.
func (s *State) checkDebit(r resolved) CodedError {
	if r.from == nil || r.from.unlimited() {
		return nil
	}
	// Pending holds count against the floor (ADR 0022): the balance
	// less every hold less this debit must stay at or above it.
	held := s.holds.heldBy(r.from)
	after, ok := r.from.balance.Sub(held)
	if ok {
		after, ok = after.Sub(r.amount)
	}
	if !ok || after.Cmp(r.from.floor) < 0 {
		need, _ := r.amount.Add(r.from.floor)
		need, _ = need.Add(held)
		return &InsufficientFundsError{Account: r.t.From, Asset: r.asset.code, Scale: r.asset.scale,
			Balance: r.from.balance, Needed: need, Held: held}
	}
	return nil
}

// convert moves the four legs of a conversion and fills entries, unless
// nil (applying the journal needs no entries: it has them). Limits and
// overflow are the caller's to check first.
func (s *State) convert(r resolved, toAmount Amount, entries *[4]Entry) {
	a, b := r.asset, r.toAsset
	for i, leg := range [4]struct {
		at     *Amount
		id, ty string
		amount Amount
		scale  int
	}{
		{&r.from.balance, r.t.From, Debit, r.amount, a.scale},
		{&a.fx, FX, Credit, r.amount, a.scale},
		{&b.fx, FX, Debit, toAmount, b.scale},
		{&r.to.balance, r.t.To, Credit, toAmount, b.scale},
	} {
		s.undo.balance(leg.at)
		if leg.ty == Debit {
			*leg.at, _ = leg.at.Sub(leg.amount)
		} else {
			*leg.at, _ = leg.at.Add(leg.amount)
		}
		if entries != nil {
			entries[i] = Entry{Account: leg.id, Type: leg.ty, Amount: leg.amount.Format(leg.scale), Balance: leg.at.Format(leg.scale)}
		}
	}
}

// TransferConverted moves the four legs as the journal records them, after
// checking that the rate and to_amount are what Decide would have made of
// the transfer, and remembers the id.
func (h stateApplier) TransferConverted(ev *Event, c *ConvertedTransfer) error {
	s := h.s
	r, err := s.resolve(c.Transfer)
	if err == nil && r.toAsset == nil {
		err = reject(CodeAssetMismatch, "both accounts hold %s", r.asset.code)
	}
	if err != nil {
		return fmt.Errorf("event %d: %v: %w", ev.Seq, err, ErrInconsistent)
	}
	toAmount, ok := Convert(r.amount, r.asset.scale, c.ExchangeRate, r.toAsset.scale)
	if !ok || c.ToAsset != r.toAsset.code || c.ToAmount != toAmount.Format(r.toAsset.scale) {
		return fmt.Errorf("event %d: %s %s at %s is not %s %s: %w", ev.Seq, c.Amount, c.Asset, c.ExchangeRate, c.ToAmount, c.ToAsset, ErrInconsistent)
	}
	s.convert(r, toAmount, nil)
	req := c.Request()
	key := keyOf(req.ID)
	s.rememberPosted(key, ev.Seq, &req, r.amount)
	return nil
}

func (payloadRules) TransferConverted(_ *Event, c *ConvertedTransfer) error {
	if err := c.Transfer.ValidateJournaled(); err != nil {
		return err
	}
	if c.Asset == "" || c.ExchangeRate == "" || c.Memo {
		return errors.New("converted transfer without asset or rate, or a memo")
	}
	if norm, _ := ParseRate("exchange_rate", c.ExchangeRate); norm != c.ExchangeRate {
		return fmt.Errorf("exchange_rate %q is not normalized (%s)", c.ExchangeRate, norm)
	}
	if c.RateFrom != RateFromRequest && c.RateFrom != RateFromTable {
		return fmt.Errorf("rate_from %q", c.RateFrom)
	}
	if err := validateAssetCode("to_asset", c.ToAsset); err != nil || c.ToAsset == c.Asset {
		return fmt.Errorf("to_asset %q of a %s transfer", c.ToAsset, c.Asset)
	}
	if err := CheckAmountLiteral(c.ToAmount); err != nil || isZeroLiteral(c.ToAmount) {
		return fmt.Errorf("to_amount %q", c.ToAmount)
	}
	want := [4]Entry{
		{Account: c.From, Type: Debit, Amount: c.Amount},
		{Account: FX, Type: Credit, Amount: c.Amount},
		{Account: FX, Type: Debit, Amount: c.ToAmount},
		{Account: c.To, Type: Credit, Amount: c.ToAmount},
	}
	for i, e := range c.Entries {
		w := want[i]
		if e.Account != w.Account || e.Type != w.Type || e.Amount != w.Amount || e.Balance == "" {
			return fmt.Errorf("entry %d %+v is not the %s of %s by %s", i, e, w.Type, w.Account, w.Amount)
		}
	}
	return nil
}
