// Package webhook is what a webhook is, apart from how it is kept or
// delivered: the definitions, dead letters and redeliveries the API answers
// with, and the port (Registry) through which the API asks for them, with
// the errors it returns.
//
// It imports only the standard library and domain, so that both the API,
// which uses the port, and infra/webhook, which implements it on NATS,
// import it without importing each other (docs/events/webhooks.md).
package webhook
