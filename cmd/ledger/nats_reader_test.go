package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/subscriber"
)

// readerWait bounds each wait of the reader tests: for the server to
// refuse, and for a consumer to deliver.
const readerWait = 30 * time.Second

// connectAs connects to the ledger's NATS listener as user, with the
// password from the data directory's file, and returns the connection
// with a channel of the asynchronous errors (permission violations) the
// server sends it.
func connectAs(t *testing.T, addr, user, passwordFile string) (*nats.Conn, <-chan error) {
	t.Helper()
	pw, err := os.ReadFile(passwordFile)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 64)
	nc, err := nats.Connect("nats://"+addr, nats.UserInfo(user, strings.TrimSpace(string(pw))),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	return nc, errs
}

// refused runs op, which the server must refuse with a permission
// violation on subject, and waits for that violation (the server answers
// a denied publish asynchronously; op itself would wait for its reply
// until its context ends, so it is then cancelled). op must fail.
func refused(t *testing.T, errs <-chan error, subject string, op func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readerWait)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- op(ctx) }()
	for {
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), subject) {
				continue // another operation's
			}
			cancel()
			if err := <-done; err == nil {
				t.Errorf("%s: the server refused it, but the operation reported success", subject)
			}
			return
		case err := <-done:
			if err == nil {
				t.Fatalf("%s: accepted for the reader", subject)
			}
			// Failed before the server's answer arrived: still wait for
			// the violation, so that it was the permissions that refused.
			done = make(chan error, 1)
			done <- err
			select {
			case perr := <-errs:
				if errors.Is(perr, nats.ErrPermissionViolation) && strings.Contains(perr.Error(), subject) {
					return
				}
				t.Fatalf("%s: failed with %v, then %v; want a permissions violation", subject, err, perr)
			case <-time.After(readerWait):
				t.Fatalf("%s: failed with %v, but no permissions violation arrived", subject, err)
			}
		}
	}
}

// TestNATSReaderUserReadsTheJournalAndChangesNothing connects to a
// ledger's NATS listener as the event consumers' user, documented in
// docs/events: it reads journal records (by sequence, directly, by
// subject), creates a consumer, pulls and acknowledges, runs a durable
// subscriber, and deletes its consumer; and the server refuses it a
// stream update (the MaxAge edit that used to be accepted), a purge, a
// stream deletion, a command, and a key-value write (the webhooks' bucket). Then the ledger's own user shortens the
// journal's life, and the next start refuses with a message that says so.
func TestNATSReaderUserReadsTheJournalAndChangesNothing(t *testing.T) {
	natsAddr := freeAddr(t)
	_, port, _ := net.SplitHostPort(natsAddr)
	dir := t.TempDir()
	p := startLedger(t, dir, "--nats-listen", port)
	c := newClient(p.url)
	c.must(t, http.MethodPost, "/v1/assets", map[string]any{"code": "USD", "scale": 2}, http.StatusCreated)

	nc, errs := connectAs(t, natsAddr, "reader", filepath.Join(dir, "auth", "nats-reader.password"))
	js := mustJetStream(t, nc)
	ctx, cancel := context.WithTimeout(context.Background(), readerWait)
	defer cancel()

	// Reading.
	st, err := js.Stream(ctx, "JOURNAL_default")
	if err != nil {
		t.Fatalf("reader: journal info: %v", err)
	}
	if !st.CachedInfo().Config.AllowDirect {
		t.Fatal("the journal does not allow direct gets: the read below would not test them")
	}
	msg, err := st.GetMsg(ctx, 1) // a direct get, as AllowDirect is set
	if err != nil || msg.Subject != "ledger.default.journal.AssetDefined" {
		t.Fatalf("reader: record 1: %v %v", msg, err)
	}
	if _, err := st.GetLastMsgForSubject(ctx, "ledger.default.journal.AssetDefined"); err != nil {
		t.Fatalf("reader: last record of a subject: %v", err)
	}
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "reader-pull", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("reader: create a consumer: %v", err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(readerWait))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("reader: acknowledge: %v", err)
		}
		got++
	}
	if got != 1 || batch.Error() != nil {
		t.Fatalf("reader: pulled %d records, err %v", got, batch.Error())
	}
	if err := st.DeleteConsumer(ctx, "reader-pull"); err != nil {
		t.Fatalf("reader: delete its consumer: %v", err)
	}
	sub, err := subscriber.New(subscriber.Config{Conn: nc, Durable: "reader-sub"})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithTimeout(ctx, readerWait)
	var first subscriber.Event
	err = sub.Run(runCtx, func(_ context.Context, ev subscriber.Event) error {
		first = ev
		stopRun()
		return nil
	})
	stopRun()
	if first.Seq != 1 || first.Type != domain.EventAssetDefined {
		t.Fatalf("reader: subscriber got %+v (run: %v)", first, err)
	}

	// Changing.
	longer := st.CachedInfo().Config
	longer.MaxAge = time.Hour
	refused(t, errs, "$JS.API.STREAM.UPDATE.JOURNAL_default", func(ctx context.Context) error {
		_, err := js.UpdateStream(ctx, longer)
		return err
	})
	refused(t, errs, "$JS.API.STREAM.PURGE.JOURNAL_default", func(ctx context.Context) error {
		return st.Purge(ctx)
	})
	refused(t, errs, "$JS.API.STREAM.DELETE.COMMANDS_default", func(ctx context.Context) error {
		return js.DeleteStream(ctx, "COMMANDS_default")
	})
	refused(t, errs, "ledger.default.commands", func(ctx context.Context) error {
		_, err := js.Publish(ctx, "ledger.default.commands", []byte(`{}`))
		return err
	})
	refused(t, errs, "$KV.WEBHOOKS_default.forged", func(ctx context.Context) error {
		_, err := js.Publish(ctx, "$KV.WEBHOOKS_default.forged", []byte(`{}`))
		return err
	})

	// The ledger's own user may change the journal; the next start
	// refuses a journal that could have dropped history.
	owner, _ := connectAs(t, natsAddr, "ledger", filepath.Join(dir, "auth", "nats.password"))
	ojs := mustJetStream(t, owner)
	ost, err := ojs.Stream(ctx, "JOURNAL_default")
	if err != nil {
		t.Fatal(err)
	}
	if ost.CachedInfo().Config.MaxAge != 0 {
		t.Fatalf("the journal's max age is %s after the reader's refused edit", ost.CachedInfo().Config.MaxAge)
	}
	if _, err := ojs.UpdateStream(ctx, longer); err != nil {
		t.Fatalf("the ledger's user: update the journal: %v", err)
	}
	owner.Close()
	nc.Close()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, readerWait); err != nil {
		t.Fatalf("stop: %v\n%s", err, p.stderr)
	}
	again := launch(t, dir)
	if err := again.wait(t, 60*time.Second); err == nil {
		t.Fatalf("the ledger started on a journal with a max age of 1h\n%s", again.stderr)
	}
	if out := again.stderr.String(); !strings.Contains(out, "retention settings changed") || !strings.Contains(out, "max age is 1h0m0s, not 0s") {
		t.Fatalf("the refusal does not say what changed:\n%s", out)
	}
}
