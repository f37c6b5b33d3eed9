package audit

import (
	"fmt"
	"strings"

	"github.com/nats-ledger/ledger/domain"
)

// The books of an account's lifecycle (ADR 0024): the limit each
// AccountLimitChanged sets, and the status each freeze, unfreeze and close
// leaves, against which every later transfer is checked (limit check).

// Account statuses in the books.
const (
	bookOpen byte = iota
	bookFrozenDebits
	bookFrozenAll
	bookClosed
)

// changed returns the account a lifecycle event changes, or nil after a
// finding: it must have been opened and not closed.
func (b *Books) changed(ev *domain.Event, c *domain.AccountChange) *accountBook {
	acc := b.accounts[c.Account]
	switch {
	case acc == nil:
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: c.Account, Detail: fmt.Sprintf("%s of an account never opened", ev.Type)})
		return nil
	case acc.status == bookClosed:
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: c.Account, Detail: fmt.Sprintf("%s of a closed account", ev.Type)})
		return nil
	}
	return acc
}

// AccountLimitChanged applies the new limit; the balance must be within it.
func (h booksApplier) AccountLimitChanged(ev *domain.Event, c *domain.AccountChange) error {
	b := h.b
	acc := b.changed(ev, c)
	if acc == nil {
		return nil
	}
	as := acc.asset
	if c.OverdraftLimit == domain.Unlimited {
		acc.setFloor(true, domain.Amount{})
		acc.limit = domain.Unlimited
		return nil
	}
	limit, err := domain.ParseAmount(c.OverdraftLimit, as.scale)
	if err != nil {
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: acc.id, Asset: as.code, Detail: "overdraft limit: " + err.Error()})
		return nil
	}
	acc.setFloor(false, limit.Neg())
	acc.limit = strings.Clone(c.OverdraftLimit)
	if acc.balance.Cmp(acc.floor) < 0 {
		b.f(Finding{Check: CheckLimit, Seq: ev.Seq, Account: acc.id, Asset: as.code, Detail: fmt.Sprintf(
			"the limit is lowered to %s while the balance is %s", c.OverdraftLimit, acc.balance.Format(as.scale))})
	}
	return nil
}

// AccountFrozen records the freeze.
func (h booksApplier) AccountFrozen(ev *domain.Event, c *domain.AccountChange) error {
	if acc := h.b.changed(ev, c); acc != nil {
		acc.status = bookFrozenDebits
		if c.Frozen == domain.FrozenAll {
			acc.status = bookFrozenAll
		}
	}
	return nil
}

// AccountUnfrozen records the account open again.
func (h booksApplier) AccountUnfrozen(ev *domain.Event, c *domain.AccountChange) error {
	if acc := h.b.changed(ev, c); acc != nil {
		acc.status = bookOpen
	}
	return nil
}

// AccountClosed records the close; the account must be at zero.
func (h booksApplier) AccountClosed(ev *domain.Event, c *domain.AccountChange) error {
	acc := h.b.changed(ev, c)
	if acc == nil {
		return nil
	}
	if !acc.balance.IsZero() {
		h.b.f(Finding{Check: CheckLimit, Seq: ev.Seq, Account: acc.id, Asset: acc.asset.code, Detail: fmt.Sprintf(
			"closed with a balance of %s", acc.balance.Format(acc.asset.scale))})
	}
	acc.status = bookClosed
	return nil
}

// checkStatus reports a transfer that a side's status forbade: a debit of
// a frozen or closed account, a credit of one frozen "all" or closed. id
// returns the transfer's id, read only for a finding.
func (b *Books) checkStatus(seq uint64, id func() string, from, to *accountBook) {
	if from != nil && from.status != bookOpen {
		b.refused(seq, id, from, "debits")
	}
	if to != nil && (to.status == bookFrozenAll || to.status == bookClosed) {
		b.refused(seq, id, to, "credits")
	}
}

func (b *Books) refused(seq uint64, id func() string, acc *accountBook, what string) {
	b.f(Finding{Check: CheckLimit, Seq: seq, Account: acc.id, Asset: acc.asset.code, Detail: fmt.Sprintf(
		"transfer %s %s account %s, which is %s", id(), what, acc.id, bookStatusName(acc.status))})
}

func bookStatusName(st byte) string {
	switch st {
	case bookFrozenDebits:
		return "frozen (debits)"
	case bookFrozenAll:
		return "frozen (all)"
	case bookClosed:
		return "closed"
	}
	return "open"
}
