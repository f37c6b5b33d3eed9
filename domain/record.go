package domain

// Record is one journal message: consecutive events of one type, encoded
// by AppendEvent, one per line (ADR 0001). The processor packs events into
// records; readers unpack them with SplitRecord.
type Record struct {
	Type     EventType
	FirstSeq uint64 // ledger sequence of the first event
	LastSeq  uint64 // ledger sequence of the last event
	Data     []byte
	// Position is the record's sequence in the journal stream; set by
	// the readers, ignored by the writer.
	Position uint64
	// Trace is the W3C traceparent the record was written under, carried
	// in a header (journalio.HeaderTrace) outside the hashed body; "" when
	// tracing is off.
	Trace string
}
