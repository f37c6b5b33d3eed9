// Command ledger is the event-sourced double-entry ledger: one binary whose
// subcommands run the server and its tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `ledger: an event-sourced double-entry ledger on NATS JetStream

Usage:
  ledger serve [flags]         run NATS (embedded), the processor, the projections and the HTTP API
  ledger token create [flags]  mint a bearer token signed with the data directory's key
  ledger bench [flags]         load-test a ledger (--url, or one it starts) and check its books
  ledger audit [flags]         verify the journal (chain, sequences, schema, books, read model); exit 1 on any failure
  ledger replay [flags]        rebuild the read model from the journal into a new file; --install it on a stopped ledger
  ledger balances [flags]      every account's balance as of a sequence or time, from the journal (CSV or JSON)
  ledger export [flags]        the journal as JSON Lines, exactly as stored (verify with ledger audit --file)
  ledger journal locate --seq N  the journal stream position of the record holding ledger sequence N
  ledger mixin user create     register a Mixin adapter user and print its keystore (also: mixin asset add)
  ledger testbank user create  register a Testbank adapter user and print its token (--root: may use ROOT)
  ledger version               print the build's version (also: ledger --version)

Run 'ledger <command> -h' for a command's flags. Exit status: 0 success,
1 failure, 2 a command line it does not understand.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ue *usageError
	if err != nil && !errors.Is(err, flag.ErrHelp) && !(errors.As(err, &ue) && ue.printed) {
		fmt.Fprintln(os.Stderr, "ledger:", err)
	}
	os.Exit(exitStatus(err))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &usageError{err: errors.New("no command"), printed: true}
	}
	switch args[0] {
	case "serve":
		tuneGC()
		return serve(ctx, args[1:], stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "bench":
		tuneGC()
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "audit":
		return auditCmd(ctx, args[1:], stdout, stderr)
	case "replay":
		return replayCmd(ctx, args[1:], stdout, stderr)
	case "balances":
		return balancesCmd(ctx, args[1:], stdout, stderr)
	case "export":
		return exportCmd(ctx, args[1:], stdout, stderr)
	case "journal":
		return journalCmd(ctx, args[1:], stdout, stderr)
	case "mixin":
		return mixinCmd(ctx, args[1:], stdout, stderr)
	case "testbank":
		return testbankCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		return versionCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown command %q", args[0])
}

// versionCmd prints the build's version (see buildVersion).
func versionCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, buildVersion())
	return nil
}

// envOr returns the environment variable key, or def when it is unset.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}
