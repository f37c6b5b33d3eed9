package domain

import (
	"fmt"
	"slices"
	"time"
)

// EventType names an event in the journal. Types are public contracts.
type EventType string

// The journal's event types.
const (
	EventAssetDefined     EventType = "AssetDefined"
	EventAccountOpened    EventType = "AccountOpened"
	EventTransferPosted   EventType = "TransferPosted"
	EventTransferRejected EventType = "TransferRejected"
)

// EventTypes lists every event type.
var EventTypes = []EventType{EventAssetDefined, EventAccountOpened, EventTransferPosted, EventTransferRejected, EventCommandSkipped, EventAccountMetadataUpdated, EventTransferConverted, EventRateSet,
	EventAccountLimitChanged, EventAccountFrozen, EventAccountUnfrozen, EventAccountClosed,
	EventTransferPending, EventHoldPosted, EventHoldVoided, EventTransactionPosted, EventTransactionRejected}

// SchemaVersion is the version of every event type's payload. A change that
// is not backwards compatible adds a new version; readers accept old ones.
const SchemaVersion = 1

// CommandRef names the command an event answers: the sequence of the
// command message in the commands stream and the item's index inside it.
// The processor uses it to recognise a command redelivered after a crash.
type CommandRef struct {
	Seq  uint64 `json:"seq"`
	Item int    `json:"item"`
}

// Before reports whether r comes before o in command order.
func (r CommandRef) Before(o CommandRef) bool {
	return r.Seq < o.Seq || r.Seq == o.Seq && r.Item < o.Item
}

// Event is one entry of the journal. Exactly one of the payload fields is
// set, matching Type. The field order of this struct is the canonical
// encoding's field order (see EncodeEvent): do not reorder it.
type Event struct {
	Seq        uint64             `json:"seq"`
	Type       EventType          `json:"type"`
	Version    int                `json:"v"`
	Command    CommandRef         `json:"command"`
	Time       time.Time          `json:"time"`
	Asset      *Asset             `json:"asset,omitempty"`
	Account    *Account           `json:"account,omitempty"`
	Transfer   *PostedTransfer    `json:"transfer,omitempty"`
	Rejection  *RejectedTransfer  `json:"rejection,omitempty"`
	Skip       *SkippedCommand    `json:"skip,omitempty"`
	Metadata   *MetadataUpdate    `json:"account_metadata,omitempty"`
	Conversion *ConvertedTransfer `json:"conversion,omitempty"`
	Rate       *RateSet           `json:"rate,omitempty"`
	Change     *AccountChange     `json:"account_change,omitempty"` // the lifecycle's four types
	Hold       *PendingTransfer   `json:"hold,omitempty"`
	HoldPost   *HoldPosting       `json:"hold_post,omitempty"`
	HoldVoid   *HoldVoiding       `json:"hold_void,omitempty"`
	// Transaction and TransactionRejection are a multi-leg transaction's
	// (ADR 0023).
	Transaction          *PostedTransaction   `json:"transaction,omitempty"`
	TransactionRejection *RejectedTransaction `json:"transaction_rejection,omitempty"`
	PrevHash             string               `json:"prev_hash"`
	Hash                 string               `json:"hash,omitempty"`
}

// PostedTransfer is the payload of TransferPosted: the resolved transfer
// and its two entries, debit first.
type PostedTransfer struct {
	Transfer
	Entries [2]Entry `json:"entries"`
	// Reversal is set on a reversal (Transfer.Reverses): the original's
	// amount and what remains of it to reverse (ADR 0023).
	Reversal *ReversalOf `json:"reversal,omitempty"`
}

// RejectedTransfer is the payload of TransferRejected: the request as it
// was made, the reason's code and its human detail.
type RejectedTransfer struct {
	Transfer
	Code   Code   `json:"code"`
	Detail string `json:"detail"`
}

// EventHandler is what a layer does with each event type: one method per
// type, so that a new type is a compile error in every layer until it says
// what it does with it. A layer that handles only some types embeds
// IgnoreEvents. Every layer dispatches through Event.Dispatch, the one
// switch over event types outside the canonical codec (whose hand-written
// fast paths leave any type they do not know to encoding/json).
type EventHandler interface {
	AssetDefined(ev *Event, a *Asset) error
	AccountOpened(ev *Event, a *Account) error
	TransferPosted(ev *Event, t *PostedTransfer) error
	TransferRejected(ev *Event, r *RejectedTransfer) error
	CommandSkipped(ev *Event, k *SkippedCommand) error
	AccountMetadataUpdated(ev *Event, u *MetadataUpdate) error
	TransferConverted(ev *Event, c *ConvertedTransfer) error
	RateSet(ev *Event, r *RateSet) error
	AccountLimitChanged(ev *Event, c *AccountChange) error
	AccountFrozen(ev *Event, c *AccountChange) error
	AccountUnfrozen(ev *Event, c *AccountChange) error
	AccountClosed(ev *Event, c *AccountChange) error
	TransferPending(ev *Event, p *PendingTransfer) error
	HoldPosted(ev *Event, p *HoldPosting) error
	HoldVoided(ev *Event, v *HoldVoiding) error
	TransactionPosted(ev *Event, t *PostedTransaction) error
	TransactionRejected(ev *Event, r *RejectedTransaction) error
}

// Dispatch calls h's method for ev's type with its payload. It returns
// an error wrapping ErrMissingPayload when the type's payload is absent,
// and ErrUnknownEvent for a type it does not know.
func (ev *Event) Dispatch(h EventHandler) error {
	missing := func() error { return fmt.Errorf("%s without its payload: %w", ev.Type, ErrMissingPayload) }
	switch ev.Type {
	case EventAssetDefined:
		if ev.Asset == nil {
			return missing()
		}
		return h.AssetDefined(ev, ev.Asset)
	case EventAccountOpened:
		if ev.Account == nil {
			return missing()
		}
		return h.AccountOpened(ev, ev.Account)
	case EventTransferPosted:
		if ev.Transfer == nil {
			return missing()
		}
		return h.TransferPosted(ev, ev.Transfer)
	case EventTransferRejected:
		if ev.Rejection == nil {
			return missing()
		}
		return h.TransferRejected(ev, ev.Rejection)
	case EventCommandSkipped:
		if ev.Skip == nil {
			return missing()
		}
		return h.CommandSkipped(ev, ev.Skip)
	case EventAccountMetadataUpdated:
		if ev.Metadata == nil {
			return missing()
		}
		return h.AccountMetadataUpdated(ev, ev.Metadata)
	case EventTransferConverted:
		if ev.Conversion == nil {
			return missing()
		}
		return h.TransferConverted(ev, ev.Conversion)
	case EventRateSet:
		if ev.Rate == nil {
			return missing()
		}
		return h.RateSet(ev, ev.Rate)
	case EventAccountLimitChanged, EventAccountFrozen, EventAccountUnfrozen, EventAccountClosed:
		if ev.Change == nil {
			return missing()
		}
		return ev.dispatchChange(h)
	case EventTransferPending:
		if ev.Hold == nil {
			return missing()
		}
		return h.TransferPending(ev, ev.Hold)
	case EventHoldPosted:
		if ev.HoldPost == nil {
			return missing()
		}
		return h.HoldPosted(ev, ev.HoldPost)
	case EventHoldVoided:
		if ev.HoldVoid == nil {
			return missing()
		}
		return h.HoldVoided(ev, ev.HoldVoid)
	case EventTransactionPosted:
		if ev.Transaction == nil {
			return missing()
		}
		return h.TransactionPosted(ev, ev.Transaction)
	case EventTransactionRejected:
		if ev.TransactionRejection == nil {
			return missing()
		}
		return h.TransactionRejected(ev, ev.TransactionRejection)
	}
	return fmt.Errorf("%q: %w", ev.Type, ErrUnknownEvent)
}

// ValidatePayload checks ev's payload by its own rules as the journal
// records it: what Decide checks of a request, and of a posting that its
// entries are its debit and credit. It does not consult any state (the
// audit's books do that); ErrMissingPayload and ErrUnknownEvent as for
// Dispatch. Each type's rules are payloadRules' method beside the type.
func (ev *Event) ValidatePayload() error { return ev.Dispatch(payloadRules{}) }

// payloadRules is ValidatePayload's handler.
type payloadRules struct{}

var _ EventHandler = payloadRules{}

// Payloads counts the payload fields set: a well-formed event has one, of
// its type.
func (ev *Event) Payloads() int {
	n := 0
	for _, set := range [...]bool{ev.Asset != nil, ev.Account != nil, ev.Transfer != nil, ev.Rejection != nil, ev.Skip != nil, ev.Metadata != nil, ev.Conversion != nil, ev.Rate != nil, ev.Change != nil,
		ev.Hold != nil, ev.HoldPost != nil, ev.HoldVoid != nil, ev.Transaction != nil, ev.TransactionRejection != nil} {
		if set {
			n++
		}
	}
	return n
}

// IgnoreEvents handles every event by doing nothing. Embed it in a
// handler that cares only about some types.
type IgnoreEvents struct{}

// AssetDefined does nothing.
func (IgnoreEvents) AssetDefined(*Event, *Asset) error { return nil }

// AccountOpened does nothing.
func (IgnoreEvents) AccountOpened(*Event, *Account) error { return nil }

// TransferPosted does nothing.
func (IgnoreEvents) TransferPosted(*Event, *PostedTransfer) error { return nil }

// TransferRejected does nothing.
func (IgnoreEvents) TransferRejected(*Event, *RejectedTransfer) error { return nil }

// CommandSkipped does nothing.
func (IgnoreEvents) CommandSkipped(*Event, *SkippedCommand) error { return nil }

// AccountMetadataUpdated does nothing.
func (IgnoreEvents) AccountMetadataUpdated(*Event, *MetadataUpdate) error { return nil }

// TransferConverted does nothing.
func (IgnoreEvents) TransferConverted(*Event, *ConvertedTransfer) error { return nil }

// RateSet does nothing.
func (IgnoreEvents) RateSet(*Event, *RateSet) error { return nil }

// AccountLimitChanged does nothing.
func (IgnoreEvents) AccountLimitChanged(*Event, *AccountChange) error { return nil }

// AccountFrozen does nothing.
func (IgnoreEvents) AccountFrozen(*Event, *AccountChange) error { return nil }

// AccountUnfrozen does nothing.
func (IgnoreEvents) AccountUnfrozen(*Event, *AccountChange) error { return nil }

// AccountClosed does nothing.
func (IgnoreEvents) AccountClosed(*Event, *AccountChange) error { return nil }

// TransferPending does nothing.
func (IgnoreEvents) TransferPending(*Event, *PendingTransfer) error { return nil }

// HoldPosted does nothing.
func (IgnoreEvents) HoldPosted(*Event, *HoldPosting) error { return nil }

// HoldVoided does nothing.
func (IgnoreEvents) HoldVoided(*Event, *HoldVoiding) error { return nil }

// TransactionPosted does nothing.
func (IgnoreEvents) TransactionPosted(*Event, *PostedTransaction) error { return nil }

// TransactionRejected does nothing.
func (IgnoreEvents) TransactionRejected(*Event, *RejectedTransaction) error { return nil }

// Involves reports whether ev concerns account: the account opened, or
// either side of a transfer posted, converted or rejected. The SSE stream's and the
// webhooks' account filters use it.
func (ev *Event) Involves(account string) bool {
	switch {
	case ev.Account != nil:
		return ev.Account.ID == account
	case ev.Metadata != nil:
		return ev.Metadata.Account == account
	case ev.Change != nil:
		return ev.Change.Account == account
	case ev.Transfer != nil:
		return ev.Transfer.From == account || ev.Transfer.To == account
	case ev.Rejection != nil:
		return ev.Rejection.From == account || ev.Rejection.To == account
	case ev.Conversion != nil:
		return ev.Conversion.From == account || ev.Conversion.To == account || account == FX
	case ev.Hold != nil:
		return ev.Hold.From == account || ev.Hold.To == account
	case ev.HoldPost != nil:
		return ev.HoldPost.From == account || ev.HoldPost.To == account
	case ev.HoldVoid != nil:
		return ev.HoldVoid.From == account || ev.HoldVoid.To == account
	case ev.Transaction != nil:
		return slices.ContainsFunc(ev.Transaction.Legs, func(l PostedLeg) bool { return l.From == account || l.To == account })
	case ev.TransactionRejection != nil:
		return slices.ContainsFunc(ev.TransactionRejection.Legs, func(l Leg) bool { return l.From == account || l.To == account })
	}
	return false
}
