// Package sqlitestore is the writer side of the SQLite read model that the
// ledger used up to schema version 3 (projections/ before ADR 0014), kept
// verbatim here only so that the read-model benchmark can compare it with
// the Pebble store in the same run. Nothing in the ledger imports it.
package sqlitestore
