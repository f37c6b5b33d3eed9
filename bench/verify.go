package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/shopspring/decimal"
)

// rejectionPagesMax bounds listing the run's rejections: 100 a page.
const rejectionPagesMax = 1_000

// snapshot is world's BENCH balance and the journal sequence it is as of.
type snapshot struct {
	seq   uint64
	world decimal.Decimal
}

type balanceView struct {
	Balance string `json:"balance"`
	AsOf    struct {
		Sequence uint64 `json:"sequence"`
	} `json:"as_of"`
}

// balance reads an account's BENCH balance as of sequence asOf (0: now)
// and the sequence it answered for.
func (a *api) balance(ctx context.Context, account string, asOf uint64) (decimal.Decimal, uint64, error) {
	q := url.Values{"asset": {benchAsset}}
	if asOf > 0 {
		q.Set("as_of", strconv.FormatUint(asOf, 10))
	}
	var v balanceView
	if _, err := a.do(ctx, http.MethodGet, "/v1/accounts/"+account+"/balance?"+q.Encode(), nil, &v, http.StatusOK); err != nil {
		return decimal.Decimal{}, 0, err
	}
	d, err := decimal.NewFromString(v.Balance)
	if err != nil {
		return decimal.Decimal{}, 0, fmt.Errorf("balance of %s: %q: %w", account, v.Balance, err)
	}
	return d, v.AsOf.Sequence, nil
}

// settle waits until the ledger has decided everything the run sent and
// its read models caught up, then reads world's balance and the sequence.
func (a *api) settle(ctx context.Context, lastAccepted []string, workers int) (snapshot, error) {
	err := forEach(ctx, len(lastAccepted), workers, func(ctx context.Context, i int) error {
		_, err := a.awaitTransfer(ctx, lastAccepted[i])
		return err
	})
	if err != nil {
		return snapshot{}, fmt.Errorf("wait for accepted transfers: %w", err)
	}
	return a.snapshot(ctx)
}

func (a *api) snapshot(ctx context.Context) (snapshot, error) {
	if err := a.waitReady(ctx); err != nil {
		return snapshot{}, err
	}
	world, seq, err := a.balance(ctx, worldAccount, 0)
	if err != nil {
		return snapshot{}, fmt.Errorf("world balance: %w", err)
	}
	return snapshot{seq: seq, world: world}, nil
}

// verify gathers the check's input after the run and checks it.
func verify(ctx context.Context, a *api, cfg Config, runID string, res phaseResult, before snapshot) (checkResult, error) {
	in := checkInput{
		worldBefore: before.world, seqBefore: before.seq,
		posted: res.posted, accepted: res.accepted,
	}
	after, err := a.settle(ctx, res.lastAccepted, cfg.Concurrency)
	if err != nil {
		return checkResult{}, err
	}
	in.seqAfter, in.worldAfter = after.seq, after.world

	// Requests never answered: look each up. One not known to the ledger
	// never reached it (everything stored before the last accepted one is
	// decided by now).
	known := make(map[string]bool, len(res.problemIDs)+len(res.unknownIDs))
	for _, id := range res.problemIDs {
		known[id] = true
	}
	var found atomic.Int64
	err = forEach(ctx, len(res.unknownIDs), cfg.Concurrency, func(ctx context.Context, i int) error {
		id := res.unknownIDs[i]
		status, err := a.transferStatus(ctx, id)
		if err == nil && status == "pending" {
			status, err = a.awaitTransfer(ctx, id)
		}
		if status == "posted" {
			found.Add(1)
		}
		return err
	})
	if err != nil {
		return checkResult{}, fmt.Errorf("look up unanswered transfers: %w", err)
	}
	for _, id := range res.unknownIDs {
		known[id] = true
	}
	in.unknownFound = found.Load()
	if res.idsDropped > 0 {
		in.incomplete = append(in.incomplete, fmt.Sprintf("%d failed transfer ids were not kept (limit %d a worker)", res.idsDropped, idsKeptMax))
	}
	if found.Load() > 0 {
		// A look-up may have waited for a pending one: the sequence and
		// world were read before it was decided.
		if after, err = a.snapshot(ctx); err != nil {
			return checkResult{}, err
		}
		in.seqAfter, in.worldAfter = after.seq, after.world
	}

	rejected, err := a.rejections(ctx, runReference(runID))
	if err != nil {
		return checkResult{}, err
	}
	in.rejections = int64(len(rejected))
	for _, id := range rejected {
		if !known[id] {
			in.rejectionsAccepted++
		}
	}
	if len(rejected) >= rejectionPagesMax*100 {
		in.incomplete = append(in.incomplete, "too many rejections to list")
	}

	if in.benchSum, err = a.sumAccounts(ctx, cfg.Accounts, cfg.Concurrency, in.seqAfter); err != nil {
		return checkResult{}, err
	}
	return check(in), nil
}

// sumAccounts adds the BENCH balances, as of sequence seq, of the run's
// accounts and of any bench-<i> past them that an earlier run with more
// accounts opened (they are numbered from 0 with no gaps, so the first
// missing one ends the search): the zero-sum check needs every BENCH
// account.
func (a *api) sumAccounts(ctx context.Context, accounts, workers int, seq uint64) (decimal.Decimal, error) {
	var mu sync.Mutex
	sum := decimal.Zero
	var missing atomic.Bool
	add := func(from, to int, mayMiss bool) error {
		return forEach(ctx, to-from, workers, func(ctx context.Context, i int) error {
			id := accountID(from + i)
			b, _, err := a.balance(ctx, id, seq)
			var se *StatusError
			if mayMiss && errors.As(err, &se) && se.Status == http.StatusNotFound {
				missing.Store(true)
				return nil
			}
			if err != nil {
				return fmt.Errorf("balance of %s: %w", id, err)
			}
			mu.Lock()
			sum = sum.Add(b)
			mu.Unlock()
			return nil
		})
	}
	if err := add(0, accounts, false); err != nil {
		return sum, err
	}
	chunk := max(workers, 16)
	for from := accounts; !missing.Load() && from < AccountsMax; from += chunk {
		if err := add(from, min(from+chunk, AccountsMax), true); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

type transferPage struct {
	Data []struct {
		ID string `json:"id"`
	} `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// rejections lists the ids of the rejected transfers carrying reference,
// at most rejectionPagesMax pages.
func (a *api) rejections(ctx context.Context, reference string) ([]string, error) {
	var ids []string
	cursor := ""
	for range rejectionPagesMax {
		q := url.Values{"status": {"rejected"}, "reference": {reference}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p transferPage
		if _, err := a.do(ctx, http.MethodGet, "/v1/transfers?"+q.Encode(), nil, &p, http.StatusOK); err != nil {
			return nil, fmt.Errorf("list rejections: %w", err)
		}
		for _, t := range p.Data {
			ids = append(ids, t.ID)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	return ids, nil
}
