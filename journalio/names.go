// Package journalio is how the journal stream is named and read: the
// streams' and subjects' names, a record's headers and unpacking, an
// ordered reader (the audit, replays), and the one watermill consumer of
// the journal (Subscription, behind its Gate) that the projector and the
// subscriber package follow it with. It is the low layer under
// projections, subscriber and audit: it imports neither the NATS server
// nor the processor.
package journalio

// Names are the JetStream names and subjects of one ledger. Everything a
// ledger owns is prefixed by its name, so several ledgers can share a NATS
// deployment.
type Names struct {
	Ledger          string
	JournalStream   string // the journal: TransferPosted, TransferRejected, ...
	JournalSubjects string // wildcard over every event subject
	CommandsStream  string // TransferRequested and the other commands
	CommandsSubject string
	ProcessorName   string // the processor's durable consumer on CommandsStream
}

// NamesFor returns the names for ledger (already validated by config).
func NamesFor(ledger string) Names {
	return Names{
		Ledger:          ledger,
		JournalStream:   "JOURNAL_" + ledger,
		JournalSubjects: "ledger." + ledger + ".journal.>",
		CommandsStream:  "COMMANDS_" + ledger,
		CommandsSubject: "ledger." + ledger + ".commands",
		ProcessorName:   "processor",
	}
}

// EventSubject is the subject of a journal record whose events have type t.
func (n Names) EventSubject(t string) string { return "ledger." + n.Ledger + ".journal." + t }

// OutcomeSubject is where the processor tells the API instance named
// instance what became of its commands.
func (n Names) OutcomeSubject(instance string) string {
	return "ledger." + n.Ledger + ".outcomes." + instance
}

// SnapshotBucket is the object store bucket holding the processor's
// snapshots of the ledger (stream OBJ_LEDGER_<ledger>_SNAPSHOTS). An object
// store, not a KV bucket: a snapshot of millions of accounts and ids runs
// to hundreds of megabytes, far beyond a KV value, and the object store
// chunks it and verifies its SHA-256 digest on every read.
func (n Names) SnapshotBucket() string { return "LEDGER_" + n.Ledger + "_SNAPSHOTS" }
