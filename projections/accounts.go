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
	if id == domain.FX {
		return lookupFX(ctx, q, asset)
	}
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
	if id == domain.FX {
		return s.fxAccount(ctx, asset)
	}
	// One read transaction: the row and its latest entry come from the
	// same snapshot.
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return AccountView{}, fmt.Errorf("account %s: %w", id, err)
	}
	defer tx.Rollback()
	var v AccountView
	var meta sql.NullString
	var created, createdSeq int64
	var scale int
	err = tx.QueryRowContext(ctx, `SELECT a.id, a.asset, a.overdraft_limit, a.owner, a.metadata, a.created_at, a.created_seq, s.scale
		FROM accounts a JOIN assets s ON s.code = a.asset WHERE a.id = ? AND (a.id <> 'world' OR a.asset = ?)`, id, asset).
		Scan(&v.ID, &v.Asset, &v.OverdraftLimit, &v.Owner, &meta, &created, &createdSeq, &scale)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("account %s: %w", id, err)
	}
	if v.Metadata, err = decodeMetadata(meta); err != nil {
		return v, err
	}
	v.CreatedAt = fromNanos(created)
	if v.Sequence, v.Balance, err = latestEntry(ctx, tx, v.ID, v.Asset, uint64(createdSeq), scale); err != nil {
		return v, err
	}
	return v, nil
}

// latestEntry returns the sequence and the balance after the account's
// latest entry, or its opening sequence and a zero balance at the asset's
// scale when it has none.
func latestEntry(ctx context.Context, q queryer, id, asset string, createdSeq uint64, scale int) (uint64, string, error) {
	var seq int64
	var balance string
	query := latestEntryQuery
	if id == domain.FX {
		query = latestFXEntryQuery
	}
	err := q.QueryRowContext(ctx, query, id, asset, id, asset).Scan(&seq, &balance)
	if errors.Is(err, sql.ErrNoRows) {
		return createdSeq, domain.Amount{}.Format(scale), nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("balance of %s: %w", id, err)
	}
	return uint64(seq), balance, nil
}

// latestEntryQuery selects the newest entry of an account (parameters: id,
// asset, id, asset).
var latestEntryQuery = "SELECT seq, balance FROM (" + debitSide.query("1", "1") + " UNION ALL " +
	creditSide.query("1", "1") + ") ORDER BY seq DESC LIMIT 1"

// latestFXEntryQuery is latestEntryQuery for the FX account.
var latestFXEntryQuery = "SELECT seq, balance FROM (" + fxDebitSide.query("1", "1") + " UNION ALL " +
	fxCreditSide.query("1", "1") + ") ORDER BY seq DESC LIMIT 1"
