package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/nats-ledger/ledger/audit"
)

type exportFlags struct {
	journal  journalFlags
	from, to uint64
	out      string
}

func parseExport(args []string, stderr io.Writer) (exportFlags, error) {
	var f exportFlags
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.journal.register(fs, false)
	fs.Uint64Var(&f.from, "from", 1, "first sequence to export")
	fs.Uint64Var(&f.to, "to", 0, "last sequence to export (0: the journal's end)")
	fs.StringVar(&f.out, "out", "-", "file to write (- for standard output)")
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	if f.from == 0 {
		return f, usagef("export: --from: sequences start at 1")
	}
	return f, nil
}

// exportCmd runs `ledger export`: the journal's stored lines as JSON
// Lines, which `ledger audit --file` verifies offline.
func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	f, err := parseExport(args, stderr)
	if err != nil {
		return err
	}
	target, err := f.journal.target()
	if err != nil {
		return err
	}
	j, err := audit.Open(ctx, target)
	if err != nil {
		return err
	}
	defer j.Close()
	w := stdout
	if f.out != "-" {
		file, err := os.Create(f.out)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer func() {
			// An export is evidence: on disk before the command says so.
			if serr := errors.Join(file.Sync(), file.Close()); err == nil && serr != nil {
				err = fmt.Errorf("export: %w", serr)
			}
		}()
		w = file
	}
	st, err := audit.Export(ctx, j.Source, f.from, f.to, w)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d events, sequences %d to %d\n", st.Lines, st.FirstSeq, st.LastSeq)
	return nil
}
