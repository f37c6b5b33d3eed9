// Package e2e holds the end-to-end tests of the ledger's HTTP API: each
// starts a whole ledger in-process (node.Start: the embedded JetStream,
// the processor, the read model, the API) behind a real HTTP server and
// drives it through HTTP only, checking the answers against the OpenAPI
// document and docs/errors.md, and the journal that results. The hostile
// suites (hostile_*_test.go) belong here too. The api package's own tests
// check its handlers against stub ports and need no ledger.
package e2e
