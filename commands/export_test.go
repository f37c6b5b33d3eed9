package commands

import "github.com/nats-ledger/ledger/domain"

// ResultOf exposes resultOf to the external tests.
func ResultOf(d domain.Decision) Result { return resultOf(d) }
