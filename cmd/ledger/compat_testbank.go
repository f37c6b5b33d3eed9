package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-ledger/ledger/api/compat/testbank"
	"github.com/nats-ledger/ledger/infra/testbankstore"
	"github.com/nats-ledger/ledger/node"
)

// testbankStoreSetup bounds opening the adapter's KV bucket at start.
const testbankStoreSetup = 30 * time.Second

func init() {
	compatSystems["testbank"] = compatSystem{
		// Testbank authenticates every request (a per-user bearer token).
		handler: func(n *node.Node, log *slog.Logger) (http.Handler, error) {
			ctx, cancel := context.WithTimeout(context.Background(), testbankStoreSetup)
			defer cancel()
			store, err := testbankstore.New(ctx, n.JS, n.Names, n.Replicas())
			if err != nil {
				return nil, err
			}
			return testbank.New(n.Core, testbank.Options{Store: store, Logger: log}), nil
		},
	}
}
