package main

import (
	"context"
	"fmt"
	"io"

	"github.com/nats-ledger/ledger/audit"
)

type balancesFlags struct {
	journal journalFlags
	asOf    string
	format  string
}

func parseBalances(args []string, stderr io.Writer) (balancesFlags, error) {
	var f balancesFlags
	fs := journalFlagSet("balances", stderr, &f.journal, true)
	fs.StringVar(&f.asOf, "as-of", "", "a sequence (e.g. 1042; 0: before the first event) or an RFC 3339 time (e.g. 2026-01-31T23:59:59Z); default: the journal's end")
	fs.StringVar(&f.format, "format", "csv", "csv or json")
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	if f.format != "csv" && f.format != "json" {
		return f, usagef("balances: --format %q: csv or json", f.format)
	}
	return f, nil
}

// balancesCmd runs `ledger balances`: every account's balance at a point
// of the journal, recomputed from the journal (not the read model).
func balancesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseBalances(args, stderr)
	if err != nil {
		return err
	}
	at, err := audit.ParseAsOf(f.asOf)
	if err != nil {
		return err
	}
	return withJournal(ctx, &f.journal, func(src audit.Source) error {
		st, _, err := audit.BalancesAsOf(ctx, src, at, audit.Options{})
		if err != nil {
			return err
		}
		if f.format == "json" {
			return st.WriteJSON(stdout)
		}
		fmt.Fprintf(stderr, "balances as of sequence %d\n", st.AsOf.Sequence)
		return st.WriteCSV(stdout)
	})
}
