package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/api/compat/mixin"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/auth"
	"github.com/nats-ledger/ledger/infra/mixinstore"
	"github.com/nats-ledger/ledger/journalio"
)

const mixinUsage = `usage:
  ledger mixin user create [--name NAME] [--pin 123456] [--data-dir DIR | --nats-url URL]
      registers a Mixin user and prints its keystore JSON (with the PIN)
  ledger mixin asset add --asset-id UUID --code CODE [--symbol S] [--name N] [--data-dir DIR | --nats-url URL]
      maps a Mixin asset id to a native asset code (scale 8, defined on first use)
`

// mixinCmd runs `ledger mixin ...`: the Mixin adapter's users and asset
// mapping, written to the ledger's KV bucket either of a stopped ledger's
// data directory or of a running one through its NATS listener.
func mixinCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
		fmt.Fprint(stdout, mixinUsage)
		return nil
	}
	if len(args) < 2 || !(args[0] == "user" && args[1] == "create" || args[0] == "asset" && args[1] == "add") {
		fmt.Fprint(stderr, mixinUsage)
		return &usageError{err: fmt.Errorf("mixin: want \"user create\" or \"asset add\", got %q", strings.Join(args, " ")), printed: true}
	}
	fs := flag.NewFlagSet("mixin "+args[0]+" "+args[1], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var j journalFlags
	j.register(fs, false)
	name := fs.String("name", "", "the user's full name, or the asset's name")
	pin := fs.String("pin", "", "the user's six-digit PIN (default: a random one)")
	var a mixin.Asset
	fs.StringVar(&a.AssetID, "asset-id", "", "the Mixin asset id (a UUID)")
	fs.StringVar(&a.Code, "code", "", "the native asset code it maps to")
	fs.StringVar(&a.Symbol, "symbol", "", "the asset's symbol (default: the code)")
	if err := parseFlags(fs, args[2:]); err != nil {
		return err
	}
	store, closeStore, err := openMixinStore(ctx, &j)
	if err != nil {
		return err
	}
	defer closeStore()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if args[0] == "user" {
		ks, err := mixin.CreateUser(ctx, store, mixin.NewUserRequest{FullName: *name, Pin: *pin}, time.Now())
		if err != nil {
			return err
		}
		return enc.Encode(ks)
	}
	a.Name = *name
	if e := mixin.CheckAsset(&a); e != nil {
		return usagef("mixin asset add: %s", e.Description)
	}
	if e := mixin.PutAsset(ctx, store, a); e != nil {
		return errors.New(e.Description)
	}
	return enc.Encode(a)
}

// adapterConnectTimeout bounds connecting to a running ledger's NATS.
const adapterConnectTimeout = 10 * time.Second

// openMixinStore opens the adapter's bucket through --nats-url (a running
// ledger) or in --data-dir (a stopped one, locked meanwhile).
func openMixinStore(ctx context.Context, j *journalFlags) (*mixinstore.Store, func(), error) {
	js, closeAll, err := openAdapterJS(j, "ledger mixin")
	if err != nil {
		return nil, nil, err
	}
	store, err := mixinstore.New(ctx, js, journalio.NamesFor(j.ledger), 0)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return store, closeAll, nil
}

// openAdapterJS connects to the JetStream that holds an adapter's bucket:
// through --nats-url (a running ledger) or in --data-dir (a stopped one,
// locked meanwhile). The function it returns closes what it opened.
func openAdapterJS(j *journalFlags, clientName string) (jetstream.JetStream, func(), error) {
	if !ledgerNameRE.MatchString(j.ledger) {
		return nil, nil, usagef("ledger name %q: use 1-32 of a-z 0-9 _ -", j.ledger)
	}
	var cleanups []func()
	closeAll := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	var nc *nats.Conn
	if j.natsURL != "" {
		pw := j.natsPassword
		if pw == "" && j.dataDir != "" {
			data, err := os.ReadFile(auth.NATSPasswordFile(j.dataDir))
			if err != nil {
				return nil, nil, fmt.Errorf("NATS password: %w (or pass --nats-password)", err)
			}
			pw = strings.TrimSpace(string(data))
		}
		c, err := nats.Connect(j.natsURL, nats.Name(clientName), nats.Timeout(adapterConnectTimeout), nats.UserInfo(j.natsUser, pw))
		if err != nil {
			return nil, nil, fmt.Errorf("connect to %s: %w", j.natsURL, err)
		}
		nc, cleanups = c, append(cleanups, c.Close)
	} else {
		dir := j.dataDir
		if dir == "" {
			dir = "./data"
		}
		if _, err := os.Stat(filepath.Join(dir, "jetstream")); err != nil {
			return nil, nil, fmt.Errorf("data directory %s: %w (start ledger serve on it once first)", dir, err)
		}
		release, err := infra.LockDataDir(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("%w (for a running ledger, use --nats-url)", err)
		}
		cleanups = append(cleanups, release)
		_, c, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dir})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		nc, cleanups = c, append(cleanups, stop)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return js, closeAll, nil
}
