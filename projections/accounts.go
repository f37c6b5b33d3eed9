package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// accountRow is what the queries need of an account row.
type accountRow struct {
	asset      string
	scale      int
	createdSeq uint64
}

// lookupAccount finds the account row for id; asset selects the issuer
// account's row and is ignored for any other id. ErrNotFound when absent
// (and for "world" without an asset).
func lookupAccount(ctx context.Context, q queryer, id, asset string) (accountRow, error) {
	if id == domain.World && asset == "" {
		return accountRow{}, ErrNotFound
	}
	var r accountRow
	var created int64
	err := q.QueryRowContext(ctx, `SELECT a.asset, s.scale, a.created_seq FROM accounts a JOIN assets s ON s.code = a.asset
		WHERE a.id = ? AND (a.id <> 'world' OR a.asset = ?)`, id, asset).Scan(&r.asset, &r.scale, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("account %s: %w", id, err)
	}
	r.createdSeq = uint64(created)
	return r, nil
}

// Account returns the account id with its current balance. asset matters
// only for the issuer account "world", which has one view per asset: an
// unlimited overdraft, created when its asset was defined. ErrNotFound for
// an unknown account, and for "world" without an asset or with an
// undefined one.
func (s *Store) Account(ctx context.Context, id, asset string) (AccountView, error) {
	if id == domain.World && asset == "" {
		return AccountView{}, ErrNotFound
	}
	var v AccountView
	var meta sql.NullString
	var created, seq int64
	err := s.r.QueryRowContext(ctx, `SELECT id, asset, balance, overdraft_limit, owner, metadata, created_at, seq
		FROM accounts WHERE id = ? AND (id <> 'world' OR asset = ?)`, id, asset).
		Scan(&v.ID, &v.Asset, &v.Balance, &v.OverdraftLimit, &v.Owner, &meta, &created, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("account %s: %w", id, err)
	}
	if v.Metadata, err = decodeMetadata(meta); err != nil {
		return v, err
	}
	v.CreatedAt, v.Sequence = fromNanos(created), uint64(seq)
	return v, nil
}
