// Package subscriber reads the ledger's journal as a stream of single
// events, in ledger order, for consumers outside the ledger: notification
// services, analytics, reconciliation, other ledgers.
//
// It is built on watermill's JetStream subscriber (watermill-nats), reads
// the journal stream directly, and depends only on the journal's documented
// contract (docs/journal.md, docs/events/): stream and subject names,
// record headers, and the event encoding in package domain.
//
// A subscription starts at the beginning, at a ledger sequence, at a time,
// or with new events only. It is durable (named: a JetStream durable
// consumer remembers where it stopped, and a new run resumes there) or
// ephemeral (gone when it stops). Delivery is at least once: after a crash
// the events of the record that was being handled are delivered again, and
// a consumer deduplicates by Event.Seq, which increases strictly.
//
// Use Subscriber.Run with a handler, or use a Subscriber as a watermill
// message.Subscriber (one message per event) under a watermill Router.
package subscriber
