package projections

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// BalanceAsOf returns the account's balance at a past point of the journal
// (asset matters only for "world"; see Account).
//
// By sequence: the balance after the account's last entry with seq <=
// asOf.Seq. A sequence beyond what the read model has applied is answered
// as of the checkpoint, and AsOf.Sequence says so (it is min(asOf.Seq,
// checkpoint)): the answer never claims a point the read model has not
// seen. Callers that need a later point wait for it first (WaitSeq).
//
// By time: the state after the latest journal sequence at or before
// asOf.Time (0 if none; event times are clamped to be monotonic, see the
// clock in apply.go), so a time query is the same as a sequence query at
// AsOf.Sequence; AsOf.Time echoes the time asked.
//
// An account that exists now but was opened after the point asked for is
// answered with a zero balance at its asset's scale rather than
// ErrNotFound: it had no money then, and its id and asset are known.
// ErrNotFound for an account that does not exist; ErrBadAsOf unless
// exactly one of asOf.Seq and asOf.Time is set.
func (s *Store) BalanceAsOf(_ context.Context, account, asset string, asOf AsOf) (BalanceView, error) {
	bySeq, byTime := asOf.Seq != 0, !asOf.Time.IsZero()
	if bySeq == byTime {
		return BalanceView{}, ErrBadAsOf
	}
	var v BalanceView
	// One snapshot: account, checkpoint, clock and entries come from the
	// same state.
	err := s.snapshot(func(r reader) error {
		acc, err := lookupAccount(r, account, asset)
		if err != nil {
			return err
		}
		cp, err := readCheckpoint(r)
		if err != nil {
			return err
		}
		seq := min(asOf.Seq, cp.Seq)
		if byTime {
			if seq, err = seqAt(r, asOf.Time, cp.Seq); err != nil {
				return err
			}
		}
		v = BalanceView{Account: account, Asset: acc.asset, Balance: domain.Amount{}.Format(acc.scale), AsOf: AsOfView{Sequence: seq}}
		if byTime {
			t := asOf.Time
			v.AsOf.Time = &t
		}
		if seq < acc.createdSeq || seq == 0 {
			return nil
		}
		_, bal, ok, err := entryAtOrBefore(r, account, acc.asset, seq)
		if err != nil {
			return fmt.Errorf("balance of %s: %w", account, err)
		}
		if ok {
			v.Balance = bal
		}
		if seq == cp.Seq {
			p, err := pendingView(r, account, acc.asset, v.Balance, acc.scale)
			v.PendingView = &p
			return err
		}
		return nil
	})
	return v, err
}

// seqAt returns the latest journal sequence at or before t: one before the
// first sequence of the first clock time after t, or the checkpoint when
// no event is later than t.
func seqAt(r reader, t time.Time, checkpoint uint64) (uint64, error) {
	at := nanosOf(t)
	if at == math.MaxInt64 {
		return checkpoint, nil
	}
	first, ok, err := firstClockFrom(r, at+1)
	if err != nil {
		return 0, fmt.Errorf("journal clock: %w", err)
	}
	if !ok {
		return checkpoint, nil
	}
	return first - 1, nil
}

// nanosOf returns t in Unix nanoseconds, saturated at the int64 range
// (about the years 1678 and 2262) where UnixNano is undefined.
func nanosOf(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}
