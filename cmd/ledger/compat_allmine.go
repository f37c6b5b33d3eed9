package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/api/compat/allmine"
	"github.com/nats-ledger/ledger/node"
)

// Allmine authenticates with the ledger's own bearer tokens, so it may
// listen beyond loopback. LEDGER_COMPAT_ALLMINE_ASSET and
// LEDGER_COMPAT_ALLMINE_SCALE choose its native asset (default ALLMINE,
// scale 2; docs/compat/allmine.md).
func init() {
	compatSystems[allmine.System] = compatSystem{
		handler: func(n *node.Node, log *slog.Logger) (http.Handler, error) {
			opts, err := allmineOptions()
			if err != nil {
				return nil, err
			}
			return allmine.New(n.Core, opts, log)
		},
	}
}

func allmineOptions() (compat.Options, error) {
	asset, scale := os.Getenv("LEDGER_COMPAT_ALLMINE_ASSET"), os.Getenv("LEDGER_COMPAT_ALLMINE_SCALE")
	if asset == "" && scale == "" {
		return compat.Options{}, nil // the defaults
	}
	opts := compat.Options{Asset: asset, Scale: allmine.DefaultScale}
	if opts.Asset == "" {
		opts.Asset = allmine.DefaultAsset
	}
	if scale != "" {
		s, err := strconv.Atoi(scale)
		if err != nil {
			return compat.Options{}, fmt.Errorf("LEDGER_COMPAT_ALLMINE_SCALE=%q: want an integer from 0 to 18", scale)
		}
		opts.Scale = s
	}
	return opts, nil
}
