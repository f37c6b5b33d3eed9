package infra

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/journalio"
)

// ErrJournalConfigChanged is returned at start-up when the journal stream
// exists with a retention setting other than the documented one: one that
// lets the server drop history (an age, count or size limit, another
// retention policy, discarding old records) or lets a client delete or
// purge it. The ledger refuses to start rather than restore the setting
// silently: records may already be gone, and whoever changed it should be
// found. docs/journal.md says what to check and how to restore it.
var ErrJournalConfigChanged = errors.New("retention settings changed")

// CheckJournalRetention compares the existing journal stream's retention
// settings with JournalConfig's and returns ErrJournalConfigChanged,
// naming each difference, if any differs. A journal that does not exist
// yet passes: EnsureStreams creates it as documented.
func CheckJournalRetention(ctx context.Context, js jetstream.JetStream, n journalio.Names) error {
	st, err := js.Stream(ctx, n.JournalStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal stream: %w", err)
	}
	have := st.CachedInfo().Config
	want := JournalConfig(n, have.Replicas) // replicas are not retention: replicasFor checks them
	var diffs []string
	differ := func(name string, have, want any) {
		if have != want {
			diffs = append(diffs, fmt.Sprintf("%s is %v, not %v", name, have, want))
		}
	}
	differ("retention", have.Retention, want.Retention)
	differ("max age", have.MaxAge, want.MaxAge)
	differ("max messages", normalLimit(have.MaxMsgs), normalLimit(want.MaxMsgs))
	differ("max bytes", normalLimit(have.MaxBytes), normalLimit(want.MaxBytes))
	differ("max messages per subject", normalLimit(have.MaxMsgsPerSubject), normalLimit(want.MaxMsgsPerSubject))
	differ("deny delete", have.DenyDelete, want.DenyDelete)
	differ("deny purge", have.DenyPurge, want.DenyPurge)
	differ("discard", have.Discard, want.Discard)
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: stream %s: %s; refusing to start: records may have been dropped. "+
		"Audit the journal (ledger audit), find who changed it, restore the documented settings (docs/journal.md), then start again",
		ErrJournalConfigChanged, n.JournalStream, strings.Join(diffs, ", "))
}

// normalLimit treats 0 and -1 alike: both mean no limit to the server.
func normalLimit(v int64) int64 {
	if v <= 0 {
		return -1
	}
	return v
}

// ensureJournal creates the journal stream, or checks its retention
// (CheckJournalRetention) before it updates the rest of its configuration:
// an update would otherwise restore the settings and hide the change. It
// gives the journal replicas copies (0: keep what it has).
func ensureJournal(ctx context.Context, js jetstream.JetStream, n journalio.Names, replicas int) (jetstream.Stream, error) {
	if err := CheckJournalRetention(ctx, js, n); err != nil {
		return nil, err
	}
	r, err := replicasFor(ctx, js, n.JournalStream, replicas)
	if err != nil {
		return nil, err
	}
	return js.CreateOrUpdateStream(ctx, JournalConfig(n, r))
}
