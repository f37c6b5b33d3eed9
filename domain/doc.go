// Package domain holds the ledger's invariants: assets, accounts, transfers,
// the decision function that accepts or rejects each command against the
// current state, and the journal's canonical event encoding with its hash
// chain. It imports only the standard library and shopspring/decimal, so the
// same rules run in the processor, in the audit tool and in tests.
package domain
