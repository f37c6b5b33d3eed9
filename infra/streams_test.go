package infra_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// decidedLedger writes a journal that decided command messages 1 to 3 and
// returns its server.
func decidedLedger(t *testing.T) *natstest.Server {
	t.Helper()
	srv := natstest.Start(t, t.TempDir())
	w := srv.Writer()
	w.Batch(t, t0, domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	w.Batch(t, t0, domain.Command{Account: &domain.Account{ID: "a", Asset: "USD"}})
	w.Batch(t, t0, domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}}) // CommandSkipped
	return srv
}

func commandsState(t *testing.T, srv *natstest.Server) jetstream.StreamState {
	t.Helper()
	s, err := srv.JS.Stream(context.Background(), srv.Names.CommandsStream)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State
}

// The commands stream keeps an accepted command until it is decided: no
// MaxAge (undecided commands used to expire after 7 days, unseen).
func TestCommandsNeverExpire(t *testing.T) {
	srv := natstest.Start(t, t.TempDir())
	s, err := srv.JS.Stream(context.Background(), srv.Names.CommandsStream)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := s.CachedInfo().Config; cfg.MaxAge != 0 || cfg.Discard != jetstream.DiscardNew {
		t.Fatalf("commands stream: max age %v, discard %v", cfg.MaxAge, cfg.Discard)
	}
}

// A commands stream deleted (with its consumer) comes back at the next
// start numbered after the journal's last decided command, so a new
// command is never taken for a decided one.
func TestDeletedCommandsStreamContinuesAfterTheJournal(t *testing.T) {
	ctx := context.Background()
	srv := decidedLedger(t)
	if err := srv.JS.DeleteStream(ctx, srv.Names.CommandsStream); err != nil {
		t.Fatal(err)
	}
	if err := infra.EnsureStreams(ctx, srv.JS, srv.Names); err != nil {
		t.Fatal(err)
	}
	if st := commandsState(t, srv); st.FirstSeq != 4 || st.LastSeq != 3 {
		t.Fatalf("commands stream recreated at %d-%d, want to start at 4", st.FirstSeq, st.LastSeq)
	}
	ack, err := srv.JS.Publish(ctx, srv.Names.CommandsSubject, []byte(`{}`))
	if err != nil || ack.Sequence != 4 {
		t.Fatalf("first new command at %v (%v), want 4", ack, err)
	}
}

// A commands stream recreated by hand, numbered from 1 again: empty, it is
// renumbered after the journal; holding commands, start-up refuses, since
// they cannot be told from decided ones.
func TestRecreatedCommandsStream(t *testing.T) {
	ctx := context.Background()
	srv := decidedLedger(t)
	// Deleting a stream and creating it again at once can, now and then,
	// hand back the stream being deleted (its first sequence 4): the
	// test's setup retries until the new stream really starts at 1.
	recreate := func() {
		t.Helper()
		for attempt := 0; ; attempt++ {
			if err := srv.JS.DeleteStream(ctx, srv.Names.CommandsStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Fatal(err)
			}
			st, err := srv.JS.CreateStream(ctx, jetstream.StreamConfig{Name: srv.Names.CommandsStream, Subjects: []string{srv.Names.CommandsSubject}})
			if err != nil {
				t.Fatal(err)
			}
			if st.CachedInfo().State.LastSeq == 0 {
				return
			}
			if attempt == 50 {
				t.Fatalf("the recreated stream keeps the old one's numbers: %+v", st.CachedInfo().State)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	recreate()
	if err := infra.EnsureStreams(ctx, srv.JS, srv.Names); err != nil {
		t.Fatalf("empty recreated stream: %v", err)
	}
	if st := commandsState(t, srv); st.FirstSeq != 4 {
		t.Fatalf("empty recreated stream starts at %d, want 4", st.FirstSeq)
	}

	recreate()
	if _, err := srv.JS.Publish(ctx, srv.Names.CommandsSubject, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	err := infra.EnsureStreams(ctx, srv.JS, srv.Names)
	if !errors.Is(err, commands.ErrCommandsRenumbered) || !strings.Contains(err.Error(), "holds 1 commands numbered 1 to 1") ||
		!strings.Contains(err.Error(), "decided commands up to 3") {
		t.Fatalf("recreated stream holding a command: %v", err)
	}
	if st := commandsState(t, srv); st.Msgs != 1 {
		t.Fatalf("the refused start touched the stream: %+v", st)
	}
}
