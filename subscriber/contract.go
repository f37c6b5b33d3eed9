package subscriber

import "github.com/nats-ledger/ledger/domain"

// The journal's public contract (docs/journal.md), restated here so that a
// consumer needs none of the ledger's server packages. A test checks that
// these agree with the server's.
const (
	// HeaderFirstSeq and HeaderLastSeq are the ledger sequences of the
	// first and last event in a record.
	HeaderFirstSeq = "Ledger-First-Seq"
	HeaderLastSeq  = "Ledger-Last-Seq"
	// HeaderFormat names the record encoding; RecordFormat is the only one.
	HeaderFormat = "Ledger-Format"
	RecordFormat = "jsonl-v1"
)

// JournalStream is the name of the journal stream of ledger.
func JournalStream(ledger string) string { return "JOURNAL_" + ledger }

// EventSubject is the subject of the records of ledger whose events have
// type t. Every record holds events of one type.
func EventSubject(ledger string, t domain.EventType) string {
	return "ledger." + ledger + ".journal." + string(t)
}

// Watermill message metadata of an event delivered by Subscribe.
const (
	MetaSeq      = "ledger_seq"      // the event's ledger sequence
	MetaType     = "ledger_type"     // the event's type
	MetaPosition = "ledger_position" // the journal record (stream sequence) holding it
)

// Event is one journal event as delivered.
type Event struct {
	// Seq is the event's ledger sequence: gapless from 1 across the
	// ledger, strictly increasing in delivery order. Deduplicate by it.
	Seq  uint64
	Type domain.EventType
	// Line is the event exactly as stored: one line of JSON, hash-chained
	// (docs/journal.md), without its '\n'. It aliases the record's data;
	// copy it to keep it past the handler.
	Line []byte
	// Event is Line decoded.
	Event *domain.Event
	// Position is the journal stream sequence of the record holding it.
	Position uint64
}
