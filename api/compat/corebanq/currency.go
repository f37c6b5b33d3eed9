package corebanq

import (
	"context"
	"sync"

	"github.com/nats-ledger/ledger/api/compat"
)

// maxKnownLedgers bounds the ledgers whose currency the adapter
// remembers; past it the memory starts again, and a ledger is only read
// again.
const maxKnownLedgers = 100_000

// currency is a ledger's asset and the asset's scale.
type currency struct {
	asset string
	scale int
}

// currencies remembers the currency of ledgers that exist. An account
// is never deleted and never changes asset, so what was read once stays
// true; remembering it spares a transfer the read model's wait.
type currencies struct {
	l compat.Ledger

	mu    sync.Mutex
	known map[string]currency
}

// of returns the currency of the ledger's account, reading the account
// the first time: projections.ErrNotFound when it does not exist, or the
// read's error.
func (c *currencies) of(ctx context.Context, account string) (currency, error) {
	c.mu.Lock()
	cur, ok := c.known[account]
	c.mu.Unlock()
	if ok {
		return cur, nil
	}
	v, err := c.l.Account(ctx, account, "")
	if err != nil {
		return currency{}, err
	}
	cur = currency{asset: v.Asset, scale: scaleOf(v)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.known) >= maxKnownLedgers {
		clear(c.known)
	}
	c.known[account] = cur
	return cur, nil
}
