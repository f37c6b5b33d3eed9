package bench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The bench's data set. Funding ids are fixed, so a second run against the
// same ledger replays them instead of minting again.
const (
	benchAsset      = "BENCH"
	benchScale      = 2
	accountPrefix   = "bench-"
	fundingPrefix   = "bench-fund-"
	fundingAmount   = "1000000000.00"
	worldAccount    = "world"
	pendingPollWait = 2 * time.Minute // bounds waiting for one 202's outcome
	pendingPoll     = 20 * time.Millisecond
)

func accountID(i int) string { return accountPrefix + strconv.Itoa(i) }

// setup defines the asset, opens the accounts and funds each from world,
// `workers` at a time. Every step is idempotent.
func setup(ctx context.Context, a *api, accounts, workers int) error {
	body := fmt.Appendf(nil, `{"code":%q,"scale":%d}`, benchAsset, benchScale)
	if _, err := a.do(ctx, http.MethodPost, "/v1/assets", body, nil, http.StatusCreated, http.StatusOK); err != nil {
		return fmt.Errorf("define asset: %w", err)
	}
	return forEach(ctx, accounts, workers, func(ctx context.Context, i int) error {
		id := accountID(i)
		open := fmt.Appendf(nil, `{"id":%q,"asset":%q}`, id, benchAsset)
		if _, err := a.do(ctx, http.MethodPost, "/v1/accounts", open, nil, http.StatusCreated, http.StatusOK, http.StatusAccepted); err != nil {
			return fmt.Errorf("open account: %w", err)
		}
		fid := fundingPrefix + strconv.Itoa(i)
		fund := fmt.Appendf(nil, `{"id":%q,"from":%q,"to":%q,"amount":%q,"asset":%q}`, fid, worldAccount, id, fundingAmount, benchAsset)
		st, err := a.do(ctx, http.MethodPost, "/v1/transfers", fund, nil, http.StatusCreated, http.StatusOK, http.StatusAccepted)
		if err != nil {
			return fmt.Errorf("fund account: %w", err)
		}
		if st == http.StatusAccepted {
			// The funding must be decided before the run's first journal
			// sequence is read, or it would count as a bench transfer.
			status, err := a.awaitTransfer(ctx, fid)
			if err != nil {
				return fmt.Errorf("fund account: %w", err)
			}
			if status != "posted" {
				return fmt.Errorf("fund account %s: transfer %s is %s", id, fid, status)
			}
		}
		return nil
	})
}

// transferStatus is the part of a transfer the bench reads.
type transferStatus struct {
	Status string `json:"status"`
}

// awaitTransfer polls GET /v1/transfers/{id} until the transfer is posted
// or rejected. A 404 counts as not decided yet: the API remembers pending
// ids in a bounded set, so a pending transfer may be forgotten before it
// is decided.
func (a *api) awaitTransfer(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, pendingPollWait)
	defer cancel()
	for {
		status, err := a.transferStatus(ctx, id)
		if err != nil {
			return "", err
		}
		if status == "posted" || status == "rejected" {
			return status, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("transfer %s still undecided after %s", id, pendingPollWait)
		case <-time.After(pendingPoll):
		}
	}
}

// transferStatus returns a transfer's status: posted, rejected, pending,
// or "" when the ledger does not know the id.
func (a *api) transferStatus(ctx context.Context, id string) (string, error) {
	var t transferStatus
	st, err := a.do(ctx, http.MethodGet, "/v1/transfers/"+id, nil, &t, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return "", err
	}
	if st == http.StatusNotFound {
		return "", nil
	}
	return t.Status, nil
}

// forEach runs fn for 0..n-1 on `workers` goroutines and returns the first
// error, after which the others stop early.
func forEach(ctx context.Context, n, workers int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
