package main

import (
	"log/slog"
	"net/http"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/api/compat/mercury"
	"github.com/nats-ledger/ledger/node"
)

// Mercury's Economy service has no authentication (it was an internal
// service behind the Mercury site), so its listener is loopback only
// unless --compat-allow-remote.
func init() {
	compatSystems[mercury.System] = compatSystem{
		unauthenticated: true,
		handler: func(n *node.Node, log *slog.Logger) (http.Handler, error) {
			return mercury.New(n.Core, compat.Options{}, log).Handler(), nil
		},
	}
}
