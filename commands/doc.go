// Package commands is the aggregate processor: the only writer of a
// ledger's journal. It consumes command messages in batches, decides each
// request against the in-memory domain.State, appends the resulting events
// to the journal with the server's fencing, and only then acknowledges the
// commands and tells the waiting API instances what happened.
package commands
