// Package projections keeps the ledger's read models: accounts with their
// balances, each account's entries, transfers (posted and rejected) and the
// journal's clock, in an embedded SQLite file fed from the journal stream.
//
// The read models are disposable. Each Store holds a checkpoint (the last
// ledger sequence and journal position applied) written in the same
// transaction as the rows it covers, so a crash never applies an event twice
// or skips one; deleting the file and restarting rebuilds everything from
// the journal, which is the truth.
//
// Files: views.go is the API's types and errors; store.go opens the
// database and waits for sequences; schema.go is the tables; apply.go and
// stmts.go turn events into rows; accounts.go, transfers.go, entries.go,
// balance.go and cursor.go answer queries; projector.go and transport.go
// feed the store from JetStream through watermill.
package projections
