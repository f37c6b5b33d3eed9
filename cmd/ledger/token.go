package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/infra/auth"
)

// defaultTokenTTL is a token's lifetime unless --ttl says otherwise.
const defaultTokenTTL = 24 * time.Hour

// scopeList collects --scope flags, each one scope or a comma-separated list.
type scopeList []string

func (s *scopeList) String() string { return strings.Join(*s, ",") }

func (s *scopeList) Set(v string) error {
	for _, sc := range strings.Split(v, ",") {
		sc = strings.TrimSpace(sc)
		if !slices.Contains(api.AllScopes, sc) {
			return fmt.Errorf("unknown scope %q (known: %s)", sc, strings.Join(api.AllScopes, ", "))
		}
		*s = append(*s, sc)
	}
	return nil
}

// token runs `ledger token create`: it signs a token with the data
// directory's HS256 key (or --jwt-key-file) and prints it.
func token(args []string, stdout, stderr io.Writer) error {
	const tokenUsage = "usage: ledger token create --sub NAME --scope SCOPE[,SCOPE] [--ttl 24h] [--data-dir DIR | --jwt-key-file FILE]"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
		fmt.Fprintln(stdout, tokenUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, tokenUsage)
		if len(args) == 0 {
			return &usageError{err: errors.New("token: missing subcommand create"), printed: true}
		}
		return &usageError{err: fmt.Errorf("token: unknown subcommand %q (known: create)", args[0]), printed: true}
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr("LEDGER_DATA_DIR", "./data"), "the ledger's data directory, whose signing key is used (env LEDGER_DATA_DIR)")
	keyFile := fs.String("jwt-key-file", envOr("LEDGER_JWT_KEY_FILE", ""), "HS256 signing key file instead of the data directory's (env LEDGER_JWT_KEY_FILE)")
	sub := fs.String("sub", "", "the token's subject: the owner name its accounts carry")
	ttl := fs.Duration("ttl", defaultTokenTTL, "how long the token is valid")
	var scopes scopeList
	fs.Var(&scopes, "scope", "a scope, repeatable or comma-separated: "+strings.Join(api.AllScopes, ", "))
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *sub == "" || len(scopes) == 0 {
		return usagef("token create needs --sub and at least one --scope")
	}
	path := *keyFile
	if path == "" {
		path = auth.DefaultKeyFile(*dataDir)
	}
	key, err := auth.LoadKey(path)
	if err != nil {
		return fmt.Errorf("%w (start ledger serve once to generate it, or pass --jwt-key-file)", err)
	}
	tok, err := auth.MintToken(key, *sub, scopes, *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
