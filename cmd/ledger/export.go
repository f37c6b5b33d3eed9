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
	fs := journalFlagSet("export", stderr, &f.journal, false)
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
func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseExport(args, stderr)
	if err != nil {
		return err
	}
	return withJournal(ctx, &f.journal, func(src audit.Source) (err error) {
		w := stdout
		if f.out != "-" {
			file, cerr := os.Create(f.out)
			if cerr != nil {
				return fmt.Errorf("export: %w", cerr)
			}
			defer func() {
				// An export is evidence: on disk before the command says
				// so, and a failed write-back is the command's error.
				if serr := errors.Join(syncRegular(file), file.Close()); err == nil && serr != nil {
					err = fmt.Errorf("export: %w", serr)
				}
			}()
			w = file
		}
		st, err := audit.Export(ctx, src, f.from, f.to, w)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "exported %d events, sequences %d to %d\n", st.Lines, st.FirstSeq, st.LastSeq)
		return nil
	})
}

// withJournal opens the journal that the flags name, runs fn on it and
// closes it: the commands that read a journal whole (export, balances).
func withJournal(ctx context.Context, f *journalFlags, fn func(audit.Source) error) error {
	return withOpenJournal(ctx, f, func(j *audit.Journal) error { return fn(j.Source) })
}

// withOpenJournal is withJournal for a command that needs the opened
// journal itself (its stream, not only its source).
func withOpenJournal(ctx context.Context, f *journalFlags, fn func(*audit.Journal) error) error {
	target, err := f.target()
	if err != nil {
		return err
	}
	j, err := audit.Open(ctx, target)
	if err != nil {
		return err
	}
	defer j.Close()
	return fn(j)
}

// journalFlagSet is the flag set of a command that reads the journal that
// j's flags name; withFile admits an export file as that journal.
func journalFlagSet(name string, stderr io.Writer, j *journalFlags, withFile bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	j.register(fs, withFile)
	return fs
}

// syncRegular fsyncs f if it is a regular file: a device such as
// /dev/null or a pipe refuses fsync, and has nothing to make durable.
func syncRegular(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return err
	}
	return f.Sync()
}
