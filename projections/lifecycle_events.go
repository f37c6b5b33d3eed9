package projections

import (
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// The read model of an account's lifecycle (ADR 0024): the status byte of
// its row and its overdraft limit as the last AccountLimitChanged set it.

// Account statuses in a row. An open account's row has no status byte,
// as rows had before accounts had a lifecycle.
const (
	accountOpen         byte = 0
	accountFrozenDebits byte = 'd'
	accountFrozenAll    byte = 'a'
	accountClosed       byte = 'x'
)

// accountStatusName is the status a view shows; "" for a byte no row holds.
func accountStatusName(st byte) string {
	switch st {
	case accountOpen:
		return domain.AccountOpen
	case accountFrozenDebits, accountFrozenAll:
		return domain.AccountFrozen
	case accountClosed:
		return domain.AccountClosed
	}
	return ""
}

// frozenName is a frozen account's mode, "" for any other.
func frozenName(st byte) string {
	switch st {
	case accountFrozenDebits:
		return domain.FrozenDebits
	case accountFrozenAll:
		return domain.FrozenAll
	}
	return ""
}

// changeAccount rewrites the row of the account c names with edit.
func (a *applier) changeAccount(ev *domain.Event, c *domain.AccountChange, edit func(*accountRow)) error {
	row, ok, err := a.accountOf(c.Account, "")
	if err != nil {
		return fmt.Errorf("account %s: %w", c.Account, err)
	}
	if !ok || c.Account == domain.World || c.Account == domain.FX {
		return fmt.Errorf("%s of unknown account %s: %w", ev.Type, c.Account, domain.ErrInconsistent)
	}
	updated := row
	edit(&updated)
	return a.putAccount(c.Account, &updated)
}

func (a *applier) AccountLimitChanged(ev *domain.Event, c *domain.AccountChange) error {
	return a.changeAccount(ev, c, func(r *accountRow) { r.overdraftLimit = c.OverdraftLimit })
}

func (a *applier) AccountFrozen(ev *domain.Event, c *domain.AccountChange) error {
	return a.changeAccount(ev, c, func(r *accountRow) {
		r.status = accountFrozenDebits
		if c.Frozen == domain.FrozenAll {
			r.status = accountFrozenAll
		}
	})
}

func (a *applier) AccountUnfrozen(ev *domain.Event, c *domain.AccountChange) error {
	return a.changeAccount(ev, c, func(r *accountRow) { r.status = accountOpen })
}

func (a *applier) AccountClosed(ev *domain.Event, c *domain.AccountChange) error {
	return a.changeAccount(ev, c, func(r *accountRow) { r.status = accountClosed })
}
