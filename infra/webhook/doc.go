// Package webhook stores webhooks in JetStream and delivers journal events
// to them over HTTP: it implements the port webhook.Registry on NATS. The
// model it stores and answers with, and the port's errors, are those of
// the leaf package github.com/nats-ledger/ledger/webhook, which the API
// imports too; this package imports no api.
//
// Definitions live in the KV bucket WEBHOOKS_<ledger>, dead letters in
// WEBHOOK_DEAD_LETTERS_<ledger>. Each webhook has a JetStream durable
// consumer of its own on the journal (webhook_<id>, through package
// subscriber) and a watermill Router of its own whose middleware retries a
// failed delivery with capped exponential backoff (the package's own loop,
// retry.go) and then files it as a dead letter (PoisonQueue, whose
// publisher is the dead-letter bucket): a slow or failing endpoint delays only itself. Deliveries are
// at least once, in ledger order per webhook, signed with HMAC-SHA256
// (subscriber.Sign).
//
// Deliveries run in the process that serves the API; run one such process
// per ledger (ledger serve does).
package webhook
