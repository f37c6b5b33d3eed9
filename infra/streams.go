package infra

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

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

// Stream limits. The journal keeps everything forever; the commands stream
// is a bounded queue that pushes back (publishes fail) when full, rather
// than silently dropping requests.
const (
	duplicateWindow = 2 * time.Minute // Nats-Msg-Id de-duplication of commands
	// journalDuplicateWindow is the server's minimum. Journal appends carry
	// no Nats-Msg-Id (the expected-sequence fence makes a retried append
	// fail rather than land twice), so the window buys nothing; at start the
	// server re-reads every record written within it, which with 2 minutes
	// was seconds of start-up after heavy writing.
	journalDuplicateWindow = 100 * time.Millisecond
	commandsMaxMsgs        = 1_000_000
	commandsMaxBytes       = 1 << 30
	commandsMaxAge         = 7 * 24 * time.Hour
	processorMaxAckMsgs    = 20_000          // command messages in flight to the processor
	processorAckWait       = 2 * time.Minute // longer than any journal append may take
	streamSetupTimeout     = 30 * time.Second
	journalMaxRecordBytes  = maxPayloadBytes
)

// JournalConfig is the journal stream's configuration.
func JournalConfig(n Names, replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        n.JournalStream,
		Description: "ledger " + n.Ledger + " journal: the source of truth, append-only",
		Subjects:    []string{n.JournalSubjects},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		MaxAge:      0,
		MaxMsgSize:  journalMaxRecordBytes,
		Duplicates:  journalDuplicateWindow,
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
		Replicas:    replicas,
	}
}

// CommandsConfig is the commands stream's configuration. Interest retention
// removes a command once the processor has acknowledged it.
func CommandsConfig(n Names, replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        n.CommandsStream,
		Description: "ledger " + n.Ledger + " commands awaiting the processor",
		Subjects:    []string{n.CommandsSubject},
		Retention:   jetstream.InterestPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     commandsMaxMsgs,
		MaxBytes:    commandsMaxBytes,
		MaxAge:      commandsMaxAge,
		MaxMsgSize:  maxPayloadBytes,
		Duplicates:  duplicateWindow,
		Replicas:    replicas,
	}
}

// ProcessorConsumerConfig is the processor's durable pull consumer. One ack
// acknowledges a whole batch (AckAll).
func ProcessorConsumerConfig(n Names) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       n.ProcessorName,
		Description:   "the aggregate processor of ledger " + n.Ledger,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       processorAckWait,
		MaxAckPending: processorMaxAckMsgs,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: n.CommandsSubject,
	}
}

// EnsureStreams creates or updates the ledger's streams and the processor's
// consumer. It is idempotent and safe to run at every start.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, n Names) error {
	ctx, cancel := context.WithTimeout(ctx, streamSetupTimeout)
	defer cancel()
	if _, err := ensureJournal(ctx, js, n); err != nil { // journalcheck.go
		return fmt.Errorf("journal stream: %w", err)
	}
	cmds, err := js.CreateOrUpdateStream(ctx, CommandsConfig(n, 1))
	if err != nil {
		return fmt.Errorf("commands stream: %w", err)
	}
	if _, err := cmds.CreateOrUpdateConsumer(ctx, ProcessorConsumerConfig(n)); err != nil {
		return fmt.Errorf("processor consumer: %w", err)
	}
	return nil
}
