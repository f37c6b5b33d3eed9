// Command print-postings prints the ledger's postings as they happen: a
// subscriber of the journal's TransferPosted events (package subscriber).
//
// Start the ledger with a NATS listener, then, in another terminal:
//
//	export NATS_URL=nats://127.0.0.1:4222 NATS_USER=reader NATS_PASSWORD=$(cat data/auth/nats-reader.password)
//	go run ./examples/print-postings -from 1          # everything, then live
//	go run ./examples/print-postings -durable printer # resumes where it stopped
//
// Delivery is at least once: after a crash a durable subscription may
// deliver again the last few events, which this program skips by sequence
// while it runs (a real consumer stores the last sequence it applied with
// its own data, and skips up to it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/nats-io/nats.go"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/subscriber"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "print-postings:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	url, user, password string
	ledger, durable     string
	from                uint64
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("print-postings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", envOr("NATS_URL", nats.DefaultURL), "NATS server (env NATS_URL)")
	fs.StringVar(&o.ledger, "ledger", "default", "ledger name")
	fs.StringVar(&o.durable, "durable", "", "durable subscription name: resume where the last run stopped")
	fs.Uint64Var(&o.from, "from", 0, "first ledger sequence (1: the whole journal); 0: new postings only. Ignored by a durable subscription that exists")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.user, o.password = os.Getenv("NATS_USER"), os.Getenv("NATS_PASSWORD")
	return o, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(o.url, nats.UserInfo(o.user, o.password), nats.Name("print-postings"))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", o.url, err)
	}
	defer nc.Close()
	return printPostings(ctx, nc, o, stdout)
}

// printPostings prints every posting from o's start until ctx ends.
func printPostings(ctx context.Context, nc *nats.Conn, o options, out io.Writer) error {
	start := subscriber.NewOnly()
	if o.from > 0 {
		start = subscriber.FromSequence(o.from)
	}
	sub, err := subscriber.New(subscriber.Config{
		Conn:    nc,
		Ledger:  o.ledger,
		Start:   start,
		Durable: o.durable,
		Types:   []domain.EventType{domain.EventTransferPosted},
	})
	if err != nil {
		return err
	}
	var last uint64 // the last sequence printed: skip redeliveries
	return sub.Run(ctx, func(_ context.Context, ev subscriber.Event) error {
		if ev.Seq <= last {
			return nil
		}
		last = ev.Seq
		_, err := fmt.Fprintln(out, format(ev.Event))
		return err
	})
}

// format renders a posting on one line:
//
//	#5 2026-11-21T23:47:46Z lunch-1: alice -> bob 25.50 USD (alice 74.50, bob 25.50) "lunch"
func format(ev *domain.Event) string {
	t := ev.Transfer
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %s: %s -> %s %s %s (%s %s, %s %s)", ev.Seq, ev.Time.Format("2006-01-02T15:04:05Z07:00"),
		t.ID, t.From, t.To, t.Amount, t.Asset,
		t.Entries[0].Account, t.Entries[0].Balance, t.Entries[1].Account, t.Entries[1].Balance)
	if t.Reference != "" {
		fmt.Fprintf(&b, " %q", t.Reference)
	}
	return b.String()
}
