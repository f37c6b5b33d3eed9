package main

import (
	"log/slog"
	"net/http"

	"github.com/nats-ledger/ledger/api/compat/corebanq"
	"github.com/nats-ledger/ledger/node"
)

// CoreBanq authenticates with the ledger's own bearer tokens, so its
// listener may be any address.
func init() {
	compatSystems["corebanq"] = compatSystem{
		handler: func(n *node.Node, log *slog.Logger) (http.Handler, error) {
			return corebanq.New(n.Core, log), nil
		},
	}
}
