package infra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/journalio"
)

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
	// The commands stream is bounded by count and bytes, with DiscardNew:
	// when full, publishing fails and the API answers 503, so a client
	// learns its write was not taken. It has no MaxAge: an accepted command
	// stays until the processor has decided it, however long that takes
	// (an expired command would be an accepted write lost unseen).
	commandsMaxMsgs       = 1_000_000
	commandsMaxBytes      = 1 << 30
	processorMaxAckMsgs   = 20_000          // command messages in flight to the processor
	processorAckWait      = 2 * time.Minute // longer than any journal append may take
	streamSetupTimeout    = 30 * time.Second
	journalMaxRecordBytes = maxPayloadBytes
)

// JournalConfig is the journal stream's configuration.
func JournalConfig(n journalio.Names, replicas int) jetstream.StreamConfig {
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
func CommandsConfig(n journalio.Names, replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        n.CommandsStream,
		Description: "ledger " + n.Ledger + " commands awaiting the processor",
		Subjects:    []string{n.CommandsSubject},
		Retention:   jetstream.InterestPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     commandsMaxMsgs,
		MaxBytes:    commandsMaxBytes,
		MaxAge:      0,
		MaxMsgSize:  maxPayloadBytes,
		Duplicates:  duplicateWindow,
		Replicas:    replicas,
	}
}

// ProcessorConsumerConfig is the processor's durable pull consumer. One ack
// acknowledges a whole batch (AckAll).
func ProcessorConsumerConfig(n journalio.Names) jetstream.ConsumerConfig {
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
// consumer, keeping the replicas of streams that exist (1 for new ones).
// It is idempotent and safe to run at every start.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, n journalio.Names) error {
	return EnsureStreamsReplicas(ctx, js, n, 0)
}

// EnsureStreamsReplicas is EnsureStreams with replicas copies of each
// stream (0: keep what exists); the processor's consumer has the commands
// stream's. It refuses (ErrReplicasReduced) to lower a stream's replicas.
func EnsureStreamsReplicas(ctx context.Context, js jetstream.JetStream, n journalio.Names, replicas int) error {
	ctx, cancel := context.WithTimeout(ctx, streamSetupTimeout)
	defer cancel()
	if _, err := ensureJournal(ctx, js, n, replicas); err != nil { // journalcheck.go
		return fmt.Errorf("journal stream: %w", err)
	}
	end, err := journalio.ReadJournalEnd(ctx, js, n)
	if err != nil {
		return err
	}
	cmds, err := ensureCommandsStream(ctx, js, n, end.Command, replicas)
	if err != nil {
		return err
	}
	if _, err := cmds.CreateOrUpdateConsumer(ctx, ProcessorConsumerConfig(n)); err != nil {
		return fmt.Errorf("processor consumer: %w", err)
	}
	return nil
}

// ensureCommandsStream creates or updates the commands stream so that its
// sequences continue after decided, the last command message the journal
// answers. A new stream (a first start, or one deleted since) starts at
// decided+1, so that no new command can be taken for a decided one. An
// existing stream whose sequences restarted below decided (it was
// recreated by hand) is made again at decided+1 if it is empty; if it
// holds commands, they were accepted and cannot be told from decided ones
// by their sequence, and EnsureStreams refuses to start.
func ensureCommandsStream(ctx context.Context, js jetstream.JetStream, n journalio.Names, decided uint64, replicas int) (jetstream.Stream, error) {
	r, err := replicasFor(ctx, js, n.CommandsStream, replicas)
	if err != nil {
		return nil, err
	}
	cfg := CommandsConfig(n, r)
	s, err := js.Stream(ctx, n.CommandsStream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		cfg.FirstSeq = decided + 1
		s, err = js.CreateStream(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("commands stream: %w", err)
		}
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("commands stream: %w", err)
	}
	if st := s.CachedInfo().State; st.LastSeq < decided {
		if st.Msgs > 0 {
			return nil, fmt.Errorf("%w: %s holds %d commands numbered %d to %d, but the journal has decided commands up to %d; "+
				"they would be taken for decided ones (see docs/operations.md, \"Commands stream\")",
				commands.ErrCommandsRenumbered, n.CommandsStream, st.Msgs, st.FirstSeq, st.LastSeq, decided)
		}
		slog.Warn("commands stream renumbered after the journal's last decided command",
			"stream", n.CommandsStream, "last", st.LastSeq, "decided", decided)
		if err := js.DeleteStream(ctx, n.CommandsStream); err != nil {
			return nil, fmt.Errorf("commands stream: %w", err)
		}
		cfg.FirstSeq = decided + 1
		if s, err = js.CreateStream(ctx, cfg); err != nil {
			return nil, fmt.Errorf("commands stream: %w", err)
		}
		return s, nil
	}
	if s, err = js.UpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("commands stream: %w", err)
	}
	return s, nil
}
