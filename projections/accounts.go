package projections

import (
	"context"
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// account is what the queries need of an account row.
type account struct {
	accountRow
	scale int
}

// lookupAccount finds the account row for id; asset selects the issuer
// account's row or the FX account's position and is ignored for any
// other id. ErrNotFound when absent (and for "world" or "fx" without an
// asset).
func lookupAccount(r reader, id, asset string) (account, error) {
	if id == domain.FX {
		return lookupFX(r, asset)
	}
	if id == domain.World && asset == "" {
		return account{}, ErrNotFound
	}
	row, ok, err := findAccount(r, id, asset)
	if err != nil {
		return account{}, fmt.Errorf("account %s: %w", id, err)
	}
	if !ok {
		return account{}, ErrNotFound
	}
	as, ok, err := getAsset(r, row.asset)
	if err != nil {
		return account{}, fmt.Errorf("account %s: %w", id, err)
	}
	if !ok {
		return account{}, ErrNotFound
	}
	return account{accountRow: row, scale: as.scale}, nil
}

// Account returns the account id with its current balance. asset matters
// only for the issuer account "world" and the FX account "fx", which have
// one view per asset: an unlimited overdraft, no owner, created when its
// asset was defined (the FX account's balance is its position, moved only
// by conversions). ErrNotFound for an unknown account, and for "world" or
// "fx" without an asset or with an undefined one.
func (s *Store) Account(_ context.Context, id, asset string) (AccountView, error) {
	var v AccountView
	// One snapshot: the row and its latest entry come from the same state.
	err := s.snapshot(func(r reader) error {
		acc, err := lookupAccount(r, id, asset)
		if err != nil {
			return err
		}
		v, err = accountView(r, id, acc)
		return err
	})
	return v, err
}

// accountView makes the view of an account row: its balance from its
// latest entry.
func accountView(r reader, id string, acc account) (AccountView, error) {
	v := AccountView{ID: id, Asset: acc.asset, OverdraftLimit: acc.overdraftLimit, Owner: acc.owner,
		CreatedAt: fromNanos(acc.createdAt), Status: accountStatusName(acc.status), Frozen: frozenName(acc.status)}
	var err error
	if v.Metadata, err = decodeMetadata(acc.meta); err != nil {
		return v, err
	}
	if v.Sequence, v.Balance, err = latestEntry(r, id, acc.asset, acc.createdSeq, acc.scale); err != nil {
		return v, err
	}
	v.PendingView, err = pendingView(r, id, acc.asset, v.Balance, acc.scale)
	return v, err
}
