package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/api/compat/testbank"
	"github.com/nats-ledger/ledger/infra/testbankstore"
	"github.com/nats-ledger/ledger/journalio"
)

const testbankUsage = `usage:
  ledger testbank user create [--name NAME] [--root] [--data-dir DIR | --nats-url URL]
      registers a Testbank user and prints its id and its 32-character token
      (shown once: only its hash is kept); --root lets it use ROOT as sender
      (credit its own accounts from nothing) or recipient (empty them), ADR 0020
`

// testbankCmd runs `ledger testbank user create`: the Testbank adapter's
// users, written to the ledger's KV bucket either of a stopped ledger's
// data directory or of a running one through its NATS listener.
func testbankCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
		fmt.Fprint(stdout, testbankUsage)
		return nil
	}
	if len(args) < 2 || args[0] != "user" || args[1] != "create" {
		fmt.Fprint(stderr, testbankUsage)
		return &usageError{err: fmt.Errorf("testbank: want \"user create\", got %q", strings.Join(args, " ")), printed: true}
	}
	fs := flag.NewFlagSet("testbank user create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var j journalFlags
	j.register(fs, false)
	name := fs.String("name", "", "the user's name")
	root := fs.Bool("root", false, "allow the user ROOT as sender or recipient (a mint or a burn of its own accounts)")
	if err := parseFlags(fs, args[2:]); err != nil {
		return err
	}
	js, closeAll, err := openAdapterJS(&j, "ledger testbank")
	if err != nil {
		return err
	}
	defer closeAll()
	store, err := testbankstore.New(ctx, js, journalio.NamesFor(j.ledger), 0)
	if err != nil {
		return err
	}
	nu, err := testbank.CreateUser(ctx, store, testbank.NewUserRequest{Name: *name, Root: *root}, time.Now())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(nu)
}
