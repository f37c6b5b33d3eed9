package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-ledger/ledger/api/compat/mixin"
	"github.com/nats-ledger/ledger/infra/mixinstore"
	"github.com/nats-ledger/ledger/node"
)

// mixinStoreSetup bounds opening the adapter's KV bucket at start.
const mixinStoreSetup = 30 * time.Second

func init() {
	compatSystems["mixin"] = compatSystem{
		// Mixin authenticates every request (signed session tokens).
		handler: func(n *node.Node, log *slog.Logger) (http.Handler, error) {
			ctx, cancel := context.WithTimeout(context.Background(), mixinStoreSetup)
			defer cancel()
			store, err := mixinstore.New(ctx, n.JS, n.Names, n.Replicas())
			if err != nil {
				return nil, err
			}
			return mixin.New(n.Core, mixin.Options{Store: store, Logger: log}), nil
		},
	}
}
