// Package projections keeps the ledger's read models: accounts with their
// balances, each account's entries, transfers (posted, converted and
// rejected), the FX account's positions, the rate table and the journal's
// clock, in one embedded Pebble store fed from the journal
// stream (docs/adr/0014-read-model-on-pebble.md).
//
// The read models are disposable. The store holds a checkpoint (the last
// ledger sequence and journal position applied) written in the same
// Pebble batch as the rows it covers, so a crash never applies an event
// twice or skips one; deleting the directory and restarting rebuilds
// everything from the journal, which is the truth.
//
// Files: views.go is the API's types and errors; store.go opens the store
// and waits for sequences; options.go is Pebble's settings and bounds;
// keys.go is the key layout and codec.go the rows; apply.go and
// apply_events.go turn events into one batch; fx.go applies and answers
// conversions and rates (ADR 0019); lookup.go, accounts.go,
// transfers.go, listing.go, entries.go, balance.go and cursor.go answer
// queries; audit.go and audit_rows.go read a store for `ledger audit`,
// edit.go changes one for the audit's tests; projector.go and
// transport.go feed the store from JetStream through watermill.
package projections
