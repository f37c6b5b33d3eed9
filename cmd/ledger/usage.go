package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// Exit statuses, as Unix tools use them: 2 for a command line the program
// did not understand, 1 for a command that ran and failed.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// usageError is a command line the program refuses: main exits 2.
type usageError struct {
	err error
	// printed is true when the flag package already wrote the error and
	// the command's flags on stderr.
	printed bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error with a formatted message.
func usagef(format string, a ...any) error { return &usageError{err: fmt.Errorf(format, a...)} }

// exitStatus maps run's error to the process's exit status: help asked
// for is a success, a usage error is 2, anything else 1.
func exitStatus(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	}
	return exitFail
}

// parseFlags parses args into fs and refuses positional arguments. Every
// subcommand takes flags only, and the flag package stops at the first
// word that is not a flag: without this check `serve data --sync-always`
// would run without the flags after the stray word.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: fmt.Errorf("%s: %w", fs.Name(), err), printed: true}
	}
	return noArgs(fs.Name(), fs.Args())
}

// noArgs refuses the arguments rest left after cmd's flags, naming the
// first and what was not read because of it.
func noArgs(cmd string, rest []string) error {
	if len(rest) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s: unexpected argument %q: %s takes flags only", cmd, rest[0], cmd)
	if len(rest) > 1 {
		msg += fmt.Sprintf(", and what follows it (%s) was not read", strings.Join(rest[1:], " "))
	}
	return usagef("%s; see 'ledger %s -h'", msg, cmd)
}
