package domain

// Transfer is a request to move Amount of Asset from one account to another.
// ID is the client's idempotency key: once a transfer with this id is
// posted, the id is spent forever. Asset may be empty, in which case it is
// the asset of the accounts.
type Transfer struct {
	ID        string            `json:"id"`
	From      string            `json:"from"`
	To        string            `json:"to"`
	Amount    string            `json:"amount"`
	Asset     string            `json:"asset,omitempty"`
	Reference string            `json:"reference,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	// Memo marks a transfer of zero: it moves nothing and records that
	// something changed hands for free (a Mercury item, say), with its
	// reference and metadata, in the history of both accounts. A memo's
	// amount must be zero and only a memo's may be: a zero amount sent
	// by mistake is still refused.
	Memo bool `json:"memo,omitempty"`
	// ExchangeRate is the rate of a transfer between accounts of
	// different assets: units of the recipient's asset per unit of the
	// sender's (ADR 0019). Empty, a conversion takes the rate table's.
	// Only a conversion may carry one.
	ExchangeRate string `json:"exchange_rate,omitempty"`
	// Pending holds the amount instead of moving it (ADR 0022): the
	// debit account's available balance falls, its balance does not,
	// until the hold is posted, voided or expires.
	Pending bool `json:"pending,omitempty"`
	// ExpiresAt is when a pending transfer expires (RFC 3339; the
	// journal records it in UTC). Empty: it never does.
	ExpiresAt string `json:"expires_at,omitempty"`
	// Reverses is the id of the transfer a reversal gives back (ADR
	// 0023). Only a reversal, decided from a Reversal command, has it.
	Reverses string `json:"reverses,omitempty"`
}

// Validate checks everything that does not need the ledger's state: ids,
// the amount's syntax, the reference and metadata bounds, and that money
// does not move from an account to itself.
func (t Transfer) Validate() error {
	for _, side := range [2]struct{ field, id string }{{"from", t.From}, {"to", t.To}} {
		if side.id == FX {
			return &FieldError{Field: side.field, Reason: "\"fx\" is the reserved FX account: only conversions move it"}
		}
	}
	if t.Reverses != "" {
		return &FieldError{Field: "reverses", Reason: "a reversal is made by POST /v1/transfers/{id}/reverse"}
	}
	return t.validate(ValidateID)
}

// ValidateJournaled checks a transfer as a journal event records it: as
// Validate, but with the id rule the journal has always kept (an id made
// only of dots, accepted once, stays readable).
func (t Transfer) ValidateJournaled() error { return t.validate(validateIDChars) }

func (t Transfer) validate(validateID func(field, id string) error) error {
	if err := validateID("id", t.ID); err != nil {
		return err
	}
	if err := validateID("from", t.From); err != nil {
		return err
	}
	if err := validateID("to", t.To); err != nil {
		return err
	}
	if t.Asset != "" {
		if err := validateAssetCode("asset", t.Asset); err != nil {
			return err
		}
	}
	if err := validateText("reference", t.Reference, MaxReferenceLen); err != nil {
		return err
	}
	if err := ValidateMetadata(t.Metadata); err != nil {
		return err
	}
	if err := CheckAmountLiteral(t.Amount); err != nil {
		return err
	}
	switch zero := isZeroLiteral(t.Amount); {
	case t.Memo && !zero:
		return &AmountSyntaxError{Amount: t.Amount, Reason: "must be zero in a memo (a memo moves nothing)"}
	case !t.Memo && zero:
		return &AmountSyntaxError{Amount: t.Amount, Reason: "must be greater than zero (a transfer of nothing is a memo: \"memo\": true)"}
	}
	if t.ExchangeRate != "" {
		if _, err := ParseRate("exchange_rate", t.ExchangeRate); err != nil {
			return err
		}
		if t.Memo {
			return &FieldError{Field: "exchange_rate", Reason: "a memo moves nothing and converts nothing"}
		}
	}
	if err := t.validateHold(); err != nil {
		return err
	}
	if t.From == t.To {
		return reject(CodeSameAccount, "from and to are the same account %q", t.From)
	}
	return nil
}

// IsMemoAmount reports whether a journaled transfer's amount is zero,
// which, by Validate, is so exactly when the transfer is a memo: a read
// model need not keep the flag beside the amount.
func IsMemoAmount(amount string) bool { return amount != "" && isZeroLiteral(amount) }

func isZeroLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' && s[i] != '.' {
			return false
		}
	}
	return true
}

// Entry is one side of a posted transfer: the account, whether it was
// debited or credited, the amount and the account's balance after it.
type Entry struct {
	Account string `json:"account"`
	Type    string `json:"type"`
	Amount  string `json:"amount"`
	Balance string `json:"balance"`
}

// Entry types.
const (
	Debit  = "debit"
	Credit = "credit"
)
