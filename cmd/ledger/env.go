package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// serveEnvNames maps the serve flags whose environment variable is not
// LEDGER_ and the flag's name in upper case with '_' for '-'.
var serveEnvNames = map[string]string{"ledger": "LEDGER_NAME"}

// envName is the environment variable of a serve flag.
func envName(flagName string) string {
	if n, ok := serveEnvNames[flagName]; ok {
		return n
	}
	return "LEDGER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets every flag of fs not given on the command line from its
// environment variable, when that is set and not empty: the command line wins, then the
// environment, then the default. A value the flag refuses is a usage
// error naming the variable. It also notes the variable in each flag's
// help line, so `ledger serve -h` lists them all.
func applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		v := os.Getenv(name) // empty counts as unset
		if v == "" || given[f.Name] || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = usagef("%s=%q (for --%s): %v", name, v, f.Name, e)
		}
	})
	return err
}

// noteEnv appends "(env NAME)" to each flag's usage that does not say it.
func noteEnv(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if name := envName(f.Name); !strings.Contains(f.Usage, name) {
			f.Usage += " (env " + name + ")"
		}
	})
}

// envOnlyAdminToken is serve's one setting without a flag: a secret on a
// command line is visible to every user of the machine (ps).
const envOnlyAdminToken = "LEDGER_ADMIN_TOKEN"

// noteEnvOnly ends fs's help with the variables that have no flag, so
// that `ledger serve -h` lists every variable serve reads.
func noteEnvOnly(fs *flag.FlagSet) {
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
		fs.PrintDefaults()
		fmt.Fprintf(out, "\nEnvironment only (a secret, never a flag):\n  %s\n    \ta static admin bearer token; empty: none\n", envOnlyAdminToken)
	}
}
