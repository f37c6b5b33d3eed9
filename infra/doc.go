// Package infra implements the ports that commands/, projections/ and api/
// declare, over an embedded or external NATS JetStream: the server itself,
// the streams, the journal appender with its fencing, the command bus, the
// outcome notifications and the data-directory lock.
package infra
