package infra

import (
	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-ledger/ledger/journalio"
)

// ReaderPermissions are the NATS permissions of an event consumer of the
// ledger n: read the journal and run its own consumers on it, nothing
// else. JetStream's API is NATS subjects, so its permissions are subject
// permissions: what is not allowed here is refused by the server, in
// particular creating, updating (MaxAge included), deleting or purging any
// stream, deleting journal records, publishing commands or journal
// records, and writing any key-value or object store (snapshots, webhooks).
//
// What a reader can still do: list and read the journal's consumers, and
// create, update or delete any consumer on the journal by name, the
// ledger's own included (subject permissions cannot tell whose a consumer
// is). A consumer cannot change or shorten the journal; see
// docs/security.md.
func ReaderPermissions(n journalio.Names) *server.Permissions {
	s := n.JournalStream
	api := "$JS.API."
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			api + "INFO",                                // account info
			api + "STREAM.INFO." + s,                    // the journal's configuration and state
			api + "STREAM.MSG.GET." + s,                 // one record by sequence
			api + "DIRECT.GET." + s,                     // the same, answered by any replica
			api + "DIRECT.GET." + s + ".>",              // the last record of a subject
			api + "CONSUMER.CREATE." + s,                // an ephemeral consumer
			api + "CONSUMER.CREATE." + s + ".>",         // a named consumer, with or without a filter
			api + "CONSUMER.DURABLE.CREATE." + s + ".*", // a durable, the older API
			api + "CONSUMER.INFO." + s + ".*",
			api + "CONSUMER.DELETE." + s + ".*",
			api + "CONSUMER.MSG.NEXT." + s + ".*", // pull
			api + "CONSUMER.NAMES." + s,
			api + "CONSUMER.LIST." + s,
			"$JS.ACK." + s + ".>", // acknowledge what its consumers delivered
			"$JS.FC." + s + ".>",  // flow control of push consumers
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{
			"_INBOX.>",        // API answers and pulled records
			n.JournalSubjects, // records as they are appended, and push delivery
		}},
	}
}
