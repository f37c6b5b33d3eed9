package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// Record is the read model's journal record (projections.Record).
type Record = projections.Record

// ApplyRecords applies consecutive journal records in ONE transaction that
// also advances the checkpoint, so the rows and the checkpoint are never
// out of step; one commit for many records is what lets the read models
// keep up with a busy journal. Events at or before the checkpoint's Seq
// are skipped, so applying a record again changes nothing. The first new
// event must follow the checkpoint exactly, and each new event the one
// before it: a gap returns an error wrapping domain.ErrSequenceGap. An
// event the read model cannot place (an unknown asset or account, a posted
// id posted again, a duplicate account) returns an error wrapping
// domain.ErrInconsistent or the database's error. On any error nothing of
// the records is applied.
func (s *Store) ApplyRecords(ctx context.Context, recs []Record) error {
	if err := projections.CheckRecords(recs); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply records: %w", err)
	}
	defer tx.Rollback()
	cp, err := readCheckpoint(ctx, tx)
	if err != nil {
		return err
	}
	next := cp
	a := applier{ctx: ctx, tx: tx, st: &s.stmts, known: s.known, touched: make(map[accountKey]struct{})}
	for _, r := range recs {
		if err := a.record(&next, r); err != nil {
			return err
		}
	}
	if next == cp {
		return nil // applied before: a redelivery
	}
	if err := a.flush(); err != nil {
		return fmt.Errorf("records up to %d: %w", next.Position, err)
	}
	if _, err := a.stmt(stmtSetCheckpoint).ExecContext(ctx, int64(next.Seq), int64(next.Position)); err != nil {
		return fmt.Errorf("records up to %d: checkpoint: %w", next.Position, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("records up to %d: commit: %w", next.Position, err)
	}
	s.remember(a.touched)
	s.advance(next.Seq, next.Position)
	return nil
}

// record applies one record's new events and advances next past it.
func (a *applier) record(next *Checkpoint, r Record) error {
	return projections.ApplyInOrder((*projections.Checkpoint)(next), r, a.apply)
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// accountKey names an account row: the issuer account has one per asset.
type accountKey struct{ id, asset string }

// applier applies the events of one record inside its transaction.
type applier struct {
	ctx     context.Context
	tx      *sql.Tx
	st      *writeStmts
	txStmts [numWriteStmts]*sql.Stmt
	touched map[accountKey]struct{} // the accounts the transaction's entries name
	known   map[accountKey]struct{} // accounts known to exist (Store.known); read only here
	// posted holds the posted rows not yet written (postedColumns values
	// each), postedIDs their ids. Every other write flushes them first, so
	// rows reach the table in journal order.
	posted    []any
	postedIDs []string
	lastAt    int64 // the clock's latest time, loaded on first use
	clockSet  bool
}

// stmt returns the prepared statement bound to the transaction.
func (a *applier) stmt(i int) *sql.Stmt {
	if a.txStmts[i] == nil {
		a.txStmts[i] = a.tx.StmtContext(a.ctx, a.st.s[i])
	}
	return a.txStmts[i]
}

func (a *applier) exec(i int, args ...any) (sql.Result, error) {
	return a.stmt(i).ExecContext(a.ctx, args...)
}

func (a *applier) apply(ev *domain.Event) error {
	if err := a.tick(ev); err != nil {
		return err
	}
	if ev.Type != domain.EventTransferPosted && len(a.postedIDs) > 0 {
		if err := a.flushPosted(); err != nil {
			return err
		}
	}
	return ev.Dispatch(a)
}

var _ domain.EventHandler = (*applier)(nil)

// CommandSkipped changes no read model: the checkpoint and the clock
// advance.
func (a *applier) CommandSkipped(*domain.Event, *domain.SkippedCommand) error { return nil }

// errAfterSchema3 refuses the events that came after schema 3 (ADR 0019):
// the comparison's journal has none, and schema 3 has no columns for them.
var errAfterSchema3 = errors.New("event type after schema 3: not in the comparison")

// TransferConverted is refused (errAfterSchema3).
func (a *applier) TransferConverted(*domain.Event, *domain.ConvertedTransfer) error {
	return errAfterSchema3
}

// RateSet is refused (errAfterSchema3).
func (a *applier) RateSet(*domain.Event, *domain.RateSet) error { return errAfterSchema3 }

// AccountLimitChanged is refused (errAfterSchema3), as are the other
// lifecycle events (ADR 0024).
func (a *applier) AccountLimitChanged(*domain.Event, *domain.AccountChange) error {
	return errAfterSchema3
}

// AccountFrozen is refused (errAfterSchema3).
func (a *applier) AccountFrozen(*domain.Event, *domain.AccountChange) error { return errAfterSchema3 }

// AccountUnfrozen is refused (errAfterSchema3).
func (a *applier) AccountUnfrozen(*domain.Event, *domain.AccountChange) error { return errAfterSchema3 }

// AccountClosed is refused (errAfterSchema3).
func (a *applier) AccountClosed(*domain.Event, *domain.AccountChange) error { return errAfterSchema3 }

// TransferPending is refused (errAfterSchema3).
func (a *applier) TransferPending(*domain.Event, *domain.PendingTransfer) error {
	return errAfterSchema3
}

// HoldPosted is refused (errAfterSchema3).
func (a *applier) HoldPosted(*domain.Event, *domain.HoldPosting) error { return errAfterSchema3 }

// HoldVoided is refused (errAfterSchema3).
func (a *applier) HoldVoided(*domain.Event, *domain.HoldVoiding) error { return errAfterSchema3 }

// TransactionPosted is refused (errAfterSchema3).
func (a *applier) TransactionPosted(*domain.Event, *domain.PostedTransaction) error {
	return errAfterSchema3
}

// TransactionRejected is refused (errAfterSchema3).
func (a *applier) TransactionRejected(*domain.Event, *domain.RejectedTransaction) error {
	return errAfterSchema3
}

// tick records the event's time in the clock. A clock that steps back
// (a failover to a host whose clock is behind) is clamped to the latest
// time seen, so the clock stays monotonic and "the latest sequence at or
// before time T" is well defined: a row is added only where time advances.
func (a *applier) tick(ev *domain.Event) error {
	if !a.clockSet {
		err := a.stmt(stmtLastClock).QueryRowContext(a.ctx).Scan(&a.lastAt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			a.lastAt = math.MinInt64
		case err != nil:
			return fmt.Errorf("clock: %w", err)
		}
		a.clockSet = true
	}
	at := ev.Time.UnixNano()
	if at <= a.lastAt {
		return nil
	}
	if _, err := a.exec(stmtInsertClock, at, int64(ev.Seq)); err != nil {
		return fmt.Errorf("clock: %w", err)
	}
	a.lastAt = at
	return nil
}

func (a *applier) AssetDefined(ev *domain.Event, _ *domain.Asset) error {
	as := ev.Asset
	if as.Scale < 0 || as.Scale > domain.MaxScale {
		return fmt.Errorf("asset %s has scale %d: %w", as.Code, as.Scale, domain.ErrInconsistent)
	}
	at := ev.Time.UnixNano()
	if _, err := a.exec(stmtInsertAsset, as.Code, as.Scale, int64(ev.Seq), at); err != nil {
		return fmt.Errorf("asset %s: %w", as.Code, err)
	}
	if _, err := a.exec(stmtInsertAccount, domain.World, as.Code, domain.Unlimited, "", nil, at, int64(ev.Seq)); err != nil {
		return fmt.Errorf("issuer account of %s: %w", as.Code, err)
	}
	return nil
}

func (a *applier) AccountOpened(ev *domain.Event, _ *domain.Account) error {
	acc := ev.Account
	var scale int
	if err := a.stmt(stmtAssetScale).QueryRowContext(a.ctx, acc.Asset).Scan(&scale); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("account %s in undefined asset %s: %w", acc.ID, acc.Asset, domain.ErrInconsistent)
		}
		return fmt.Errorf("account %s: %w", acc.ID, err)
	}
	meta, err := encodeMetadata(acc.Metadata)
	if err != nil {
		return err
	}
	limit := acc.OverdraftLimit
	if limit == "" { // the domain normalises it; an older event may not have
		limit = domain.Amount{}.Format(scale)
	}
	_, err = a.exec(stmtInsertAccount, acc.ID, acc.Asset, limit, acc.Owner, meta, ev.Time.UnixNano(), int64(ev.Seq))
	if err != nil {
		return fmt.Errorf("account %s: %w", acc.ID, err)
	}
	return nil
}

// AccountMetadataUpdated replaces the account's metadata.
func (a *applier) AccountMetadataUpdated(_ *domain.Event, u *domain.MetadataUpdate) error {
	meta, err := encodeMetadata(u.Metadata)
	if err != nil {
		return err
	}
	res, err := a.exec(stmtSetAccountMetadata, meta, u.Account)
	if err != nil {
		return fmt.Errorf("account %s: %w", u.Account, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("metadata of unknown account %s: %w", u.Account, domain.ErrInconsistent)
	}
	return nil
}

func (a *applier) TransferPosted(ev *domain.Event, _ *domain.PostedTransfer) error {
	p := ev.Transfer
	d, c := p.Entries[0], p.Entries[1]
	if p.Asset == "" || d.Account != p.From || d.Type != domain.Debit || c.Account != p.To || c.Type != domain.Credit ||
		d.Amount != p.Amount || c.Amount != p.Amount {
		return fmt.Errorf("transfer %s: entries do not match the transfer: %w", p.ID, domain.ErrInconsistent)
	}
	meta, err := encodeMetadata(p.Metadata)
	if err != nil {
		return err
	}
	seq := int64(ev.Seq)
	a.posted = append(a.posted, seq, p.ID, p.From, p.To, p.Amount, p.Asset, p.Reference, meta, ev.Time.UnixNano(),
		d.Balance, c.Balance)
	a.postedIDs = append(a.postedIDs, p.ID)
	a.touched[accountKey{d.Account, p.Asset}] = struct{}{}
	a.touched[accountKey{c.Account, p.Asset}] = struct{}{}
	if len(a.postedIDs) == postedPerInsert {
		return a.flushPosted()
	}
	return nil
}

// flushPosted writes the buffered posted rows: full groups with the
// multi-row upsert, a remainder one by one. Every row must change the
// table (an insert, or a rejection replaced): one that does not is an id
// posted twice.
func (a *applier) flushPosted() error {
	rows, ids := a.posted, a.postedIDs
	for len(ids) > 0 {
		n, st := postedPerInsert, stmtUpsertPostedMany
		if len(ids) < postedPerInsert {
			n, st = 1, stmtUpsertPosted
		}
		res, err := a.exec(st, rows[:n*postedColumns]...)
		if err != nil {
			return fmt.Errorf("transfers %s to %s: %w", ids[0], ids[n-1], err)
		}
		if changed, err := res.RowsAffected(); err != nil || changed != int64(n) {
			if n == 1 {
				return fmt.Errorf("transfer %s was posted before: %w", ids[0], domain.ErrInconsistent)
			}
			return fmt.Errorf("a transfer among %s to %s was posted before: %w", ids[0], ids[n-1], domain.ErrInconsistent)
		}
		rows, ids = rows[n*postedColumns:], ids[n:]
	}
	a.posted, a.postedIDs = a.posted[:0], a.postedIDs[:0]
	return nil
}

// TransferRejected records a rejection. A later rejection of the same id
// replaces an earlier one; a posted id is never touched (the domain never
// journals a rejection for it, and a posting never changes).
func (a *applier) TransferRejected(ev *domain.Event, _ *domain.RejectedTransfer) error {
	r := ev.Rejection
	meta, err := encodeMetadata(r.Metadata)
	if err != nil {
		return err
	}
	_, err = a.exec(stmtUpsertRejected, int64(ev.Seq), r.ID, r.From, r.To, r.Amount, r.Asset, r.Reference, meta,
		ev.Time.UnixNano(), string(r.Code), r.Detail)
	if err != nil {
		return fmt.Errorf("rejected transfer %s: %w", r.ID, err)
	}
	return nil
}

// flush writes the buffered rows and checks that every account the
// entries name exists: an entry of an unknown account is an inconsistent
// journal.
func (a *applier) flush() error {
	if err := a.flushPosted(); err != nil {
		return err
	}
	for k := range a.touched {
		if _, ok := a.known[k]; ok {
			continue
		}
		var one int
		err := a.stmt(stmtAccountExists).QueryRowContext(a.ctx, k.id, k.asset).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("entry for unknown account %s in %s: %w", k.id, k.asset, domain.ErrInconsistent)
		}
		if err != nil {
			return fmt.Errorf("account %s: %w", k.id, err)
		}
	}
	return nil
}

// encodeMetadata returns the metadata as JSON (keys sorted), or nil for
// none.
func encodeMetadata(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return string(b), nil
}
