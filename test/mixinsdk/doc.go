// Package mixinsdk holds the end-to-end test of the Mixin adapter with the
// public SDK (github.com/fox-one/mixin-sdk-go/v2), unmodified, against a
// real `ledger serve --compat mixin=...`. It is its own module so that the
// SDK's dependencies stay out of the ledger's go.mod; the ledger binary is
// built from the repository root by the test.
package mixinsdk
