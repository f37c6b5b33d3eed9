package domain

import "time"

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
var EventTypes = []EventType{EventAssetDefined, EventAccountOpened, EventTransferPosted, EventTransferRejected, EventCommandSkipped, EventAccountMetadataUpdated}

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
	Seq       uint64            `json:"seq"`
	Type      EventType         `json:"type"`
	Version   int               `json:"v"`
	Command   CommandRef        `json:"command"`
	Time      time.Time         `json:"time"`
	Asset     *Asset            `json:"asset,omitempty"`
	Account   *Account          `json:"account,omitempty"`
	Transfer  *PostedTransfer   `json:"transfer,omitempty"`
	Rejection *RejectedTransfer `json:"rejection,omitempty"`
	Skip      *SkippedCommand   `json:"skip,omitempty"`
	Metadata  *MetadataUpdate   `json:"account_metadata,omitempty"`
	PrevHash  string            `json:"prev_hash"`
	Hash      string            `json:"hash,omitempty"`
}

// PostedTransfer is the payload of TransferPosted: the resolved transfer
// and its two entries, debit first.
type PostedTransfer struct {
	Transfer
	Entries [2]Entry `json:"entries"`
}

// RejectedTransfer is the payload of TransferRejected: the request as it
// was made, the reason's code and its human detail.
type RejectedTransfer struct {
	Transfer
	Code   Code   `json:"code"`
	Detail string `json:"detail"`
}
