package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/journalio"
)

const journalUsage = `Usage:
  ledger journal locate --seq N [flags]   the journal record (stream position) holding ledger sequence N

Run 'ledger journal locate -h' for its flags.
`

// journalCmd runs `ledger journal <subcommand>`: tools on the journal
// stream itself.
func journalCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "locate" {
		fmt.Fprint(stderr, journalUsage)
		if len(args) == 0 {
			return &usageError{err: errors.New("journal: no subcommand"), printed: true}
		}
		return usagef("journal: unknown subcommand %q", args[0])
	}
	return locateCmd(ctx, args[1:], stdout, stderr)
}

type locateFlags struct {
	journal journalFlags
	seq     uint64
	jsonOut bool
}

func parseLocate(args []string, stderr io.Writer) (locateFlags, error) {
	var f locateFlags
	fs := journalFlagSet("journal locate", stderr, &f.journal, false)
	fs.Uint64Var(&f.seq, "seq", 0, "the ledger sequence to find (from 1)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the location as one JSON object (as GET /v1/journal/locate answers)")
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	if f.seq == 0 {
		return f, usagef("journal locate: --seq: give a ledger sequence, from 1")
	}
	return f, nil
}

// locateCmd runs `ledger journal locate`: where ledger sequence N is in the
// journal stream, found from the records' headers (journalio.Locate), and
// how to start a consumer there.
func locateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseLocate(args, stderr)
	if err != nil {
		return err
	}
	var loc journalio.Location
	if err := withOpenJournal(ctx, &f.journal, func(j *audit.Journal) (err error) {
		if loc, err = journalio.Locate(ctx, j.Stream.JS, j.Stream.Names, f.seq); err != nil {
			return fmt.Errorf("journal locate: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if f.jsonOut {
		return json.NewEncoder(stdout).Encode(loc)
	}
	fmt.Fprintf(stdout, "ledger sequence %d: %s position %d (%s, sequences %d-%d)\n",
		loc.Seq, loc.Stream, loc.Position, loc.Type, loc.FirstSeq, loc.LastSeq)
	fmt.Fprintf(stderr, "read it:      nats stream get %s %d -j\nconsume from: nats sub --stream %s --start-sequence %d --raw\n"+
		"(the record holds sequences %d-%d: skip events whose seq is below %d)\n",
		loc.Stream, loc.Position, loc.Stream, loc.Position, loc.FirstSeq, loc.LastSeq, loc.Seq)
	return nil
}
