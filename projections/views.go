package projections

import (
	"errors"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// Errors the queries return. api/ maps them to HTTP statuses.
var (
	// ErrNotFound means the account or transfer is not in the read model
	// (yet: the read model may lag the journal; see Store.WaitSeq).
	ErrNotFound = errors.New("not found")
	// ErrBadCursor means a pagination cursor was not one this package made.
	ErrBadCursor = errors.New("invalid cursor")
	// ErrBadLimit means a page limit outside 1 to MaxPageLimit.
	ErrBadLimit = errors.New("page limit out of range")
	// ErrBadAsOf means an AsOf with neither or both of Seq and Time set.
	ErrBadAsOf = errors.New("as_of: set exactly one of sequence and time")
	// ErrClosed means the Store was closed.
	ErrClosed = errors.New("projections store closed")
)

// MaxPageLimit bounds one page of any listing. The API validates 1-100 and
// this package refuses anything else, so a page's cost is bounded here too.
const MaxPageLimit = 100

// AccountView is an account with its current balance. The issuer account
// "world" has one view per asset.
type AccountView struct {
	ID             string            `json:"id"`
	Asset          string            `json:"asset"`
	Balance        string            `json:"balance"`
	OverdraftLimit string            `json:"overdraft_limit"`
	Owner          string            `json:"owner"`
	Metadata       map[string]string `json:"metadata"`
	CreatedAt      time.Time         `json:"created_at"`
	Sequence       uint64            `json:"sequence"` // the last ledger sequence that changed the account's balance
	PendingView                      // pending holds from and to it (holds.go)
	// Status is "open", "frozen" or "closed" (ADR 0024); Frozen, for a
	// frozen account, says what it refuses: "debits" or "all".
	Status string `json:"status"`
	Frozen string `json:"frozen,omitempty"`
}

// EntryView is one side of a posted transfer, seen from its account.
type EntryView struct {
	TransferID string    `json:"transfer_id"`
	Sequence   uint64    `json:"sequence"`
	Type       string    `json:"type"`    // debit or credit
	Amount     string    `json:"amount"`  // at the asset's scale
	Balance    string    `json:"balance"` // the account's balance after the entry
	Reference  string    `json:"reference"`
	PostedAt   time.Time `json:"posted_at"`
}

// Transfer statuses.
const (
	StatusPosted   = "posted"
	StatusRejected = "rejected"
)

// TransferView is a posted or a rejected transfer. A rejected one shows the
// request as it was made (its From, To and Asset may name nothing that
// exists, and Asset may be empty) with Code, Detail and RejectedAt; a posted
// one shows the resolved transfer with PostedAt and its two entries. A
// converted one (between assets) also shows the rate used, ToAsset and
// ToAmount, and four entries: the sender's debit, the FX account's credit
// (Asset) and debit (ToAsset), the recipient's credit.
type TransferView struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"`
	From      string            `json:"from"`
	To        string            `json:"to"`
	Amount    string            `json:"amount"`
	Asset     string            `json:"asset"`
	Reference string            `json:"reference"`
	Metadata  map[string]string `json:"metadata"`
	Memo      bool              `json:"memo,omitempty"` // a transfer of nothing (domain.Transfer.Memo)
	// ExchangeRate is the rate a conversion used, or the rate a rejected
	// request gave.
	ExchangeRate string `json:"exchange_rate,omitempty"`
	ToAsset      string `json:"to_asset,omitempty"`
	ToAmount     string `json:"to_amount,omitempty"`
	Sequence     uint64 `json:"sequence"`
	// Hash is the journal hash of the event at Sequence: what an auditor
	// checks against an export or a signed checkpoint (docs/audit.md).
	Hash       string         `json:"hash,omitempty"`
	PostedAt   *time.Time     `json:"posted_at,omitempty"`
	Entries    []domain.Entry `json:"entries,omitempty"`
	Code       string         `json:"code,omitempty"`
	Detail     string         `json:"detail,omitempty"`
	RejectedAt *time.Time     `json:"rejected_at,omitempty"`
	Hold       *HoldView      `json:"hold,omitempty"` // a pending transfer's hold (holds.go)
	// Reverses is the original a reversal gives back (ADR 0023).
	Reverses string `json:"reverses,omitempty"`
	// Reversals and Reversible are shown on the read of one posted
	// transfer that may be reversed: its reversals in posting order and
	// what remains to reverse.
	Reversals  []ReversalView `json:"reversals,omitempty"`
	Reversible string         `json:"reversible,omitempty"`
}

// BalanceView is an account's balance as of a past point of the journal.
type BalanceView struct {
	Account string   `json:"account"`
	Asset   string   `json:"asset"`
	Balance string   `json:"balance"`
	AsOf    AsOfView `json:"as_of"`
	// Pending amounts, shown only as of the latest sequence applied (the
	// read model keeps no history of them).
	*PendingView
}

// AsOfView says which point of the journal a BalanceView reflects: the
// state after the event with this sequence (0: before the first event).
// Time echoes the requested time for a query by time.
type AsOfView struct {
	Sequence uint64     `json:"sequence"`
	Time     *time.Time `json:"time,omitempty"`
}

// AsOf selects a past point of the journal: exactly one field is set.
type AsOf struct {
	Seq  uint64
	Time time.Time
}

// TransferFilter selects transfers; zero fields do not filter. Account
// matches either side; Reference is a substring, case-insensitive for
// ASCII letters (SQLite LIKE; % and _ match themselves); Since is
// inclusive and Until exclusive, on the time the transfer was posted or
// rejected as the journal clock has it (event times made monotonic, which
// they are unless a host's clock stepped back). Limit is 1 to
// MaxPageLimit; Cursor is empty or a previous page's NextCursor.
type TransferFilter struct {
	Account, From, To, Asset, Reference string
	// Status is StatusPosted (also when empty), StatusRejected or
	// StatusAll. A listing shows posted transfers unless asked: a
	// rejection moved no money.
	Status       string
	Since, Until time.Time
	Limit        int
	Cursor       string
}

// StatusAll is the TransferFilter status that takes both.
const StatusAll = "all"

// Page is one page of a newest-first listing. NextCursor is nil on the
// last page.
type Page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// PostedView is a TransferPosted, TransferConverted or TransferPending
// event as the read model shows it once applied (metadata {} when none): what a write's
// answer carries before the read model has caught up.
func PostedView(ev *domain.Event) TransferView {
	at := ev.Time
	v := TransferView{Status: StatusPosted, Sequence: ev.Seq, Hash: ev.Hash, PostedAt: &at}
	var t *domain.Transfer
	switch {
	case ev.Conversion != nil:
		c := ev.Conversion
		t, v.Entries = &c.Transfer, c.Entries[:]
		v.ToAsset, v.ToAmount = c.ToAsset, c.ToAmount
	case ev.Transfer != nil:
		t, v.Entries = &ev.Transfer.Transfer, ev.Transfer.Entries[:]
	case ev.Hold != nil:
		return heldView(ev)
	default:
		return v
	}
	v.ID, v.From, v.To, v.Amount, v.Asset, v.Reference = t.ID, t.From, t.To, t.Amount, t.Asset, t.Reference
	v.Memo, v.ExchangeRate, v.Metadata, v.Reverses = t.Memo, t.ExchangeRate, t.Metadata, t.Reverses
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	return v
}
