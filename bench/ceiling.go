package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	ledgerapi "github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/auth"
	"github.com/nats-ledger/ledger/projections"
)

// benchTokenTTL is the lifetime of the JWTs the bench mints: longer than
// any run it allows (DurationMax plus the set-up and check).
const benchTokenTTL = 2 * DurationMax

// apiCeiling serves the real API (HTTP server, JWT verification, strict
// request decoding and validation, admission) with nothing behind it: no
// JetStream, no processor goroutine, no read model. Its submitter decides
// each request at once against an in-memory domain.State, so a transfer
// is answered 201 with the same body the ledger sends. What the ledger
// adds on top of this (storing the command, the journal append, the
// handoffs between them) is what the ratio to this ceiling measures.
func apiCeiling(ctx context.Context, cfg Config, p phase, hc *http.Client) (phaseResult, error) {
	h, token, err := ceilingHandler(cfg.Accounts)
	if err != nil {
		return phaseResult{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return phaseResult{}, err
	}
	srv := newHTTPServer(h)
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		_ = srv.Close()
		hc.CloseIdleConnections()
	}()
	runID, err := randomHex(4)
	if err != nil {
		return phaseResult{}, err
	}
	base := "http://" + ln.Addr().String()
	res := p.run(ctx, func(w int) step {
		return newTransferGen(hc, base, token, runID, w, cfg).step
	})
	return res, ctx.Err()
}

// ceilingHandler returns the ceiling's API handler, its accounts set up
// and funded, and an admin JWT it accepts.
func ceilingHandler(accounts int) (http.Handler, string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, "", fmt.Errorf("random: %w", err)
	}
	verifier, err := auth.NewJWTVerifier(auth.JWTConfig{HS256Key: key})
	if err != nil {
		return nil, "", err
	}
	token, err := auth.MintToken(key, "bench", []string{ledgerapi.ScopeAdmin}, benchTokenTTL, time.Now())
	if err != nil {
		return nil, "", err
	}
	sub, err := newDecideOnly(accounts)
	if err != nil {
		return nil, "", err
	}
	// Logging as the self-started ledger logs (target.go): warnings only.
	h := ledgerapi.New(ledgerapi.Config{Auth: verifier, Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))},
		sub, appliedEverything{sub})
	return h, token, nil
}

// decideOnly is a commands.Submitter that decides in the caller's
// goroutine, under one lock, and stores nothing.
type decideOnly struct {
	mu    sync.Mutex
	state *domain.State
	seq   uint64 // the command sequence of the next item
}

var _ commands.Submitter = (*decideOnly)(nil)

// newDecideOnly returns a decider with the bench's asset and accounts,
// each funded as setup funds them.
func newDecideOnly(accounts int) (*decideOnly, error) {
	d := &decideOnly{state: domain.NewState()}
	setup := []domain.Command{{Asset: &domain.Asset{Code: benchAsset, Scale: benchScale}}}
	for i := range accounts {
		id := accountID(i)
		setup = append(setup,
			domain.Command{Account: &domain.Account{ID: id, Asset: benchAsset}},
			domain.Command{Transfer: &domain.Transfer{ID: fundingPrefix + strconv.Itoa(i), From: worldAccount, To: id,
				Amount: fundingAmount, Asset: benchAsset}})
	}
	now := time.Now()
	for _, c := range setup {
		d.seq++
		c.Ref = domain.CommandRef{Seq: d.seq}
		if r := d.state.Decide(c, now); r.Outcome == domain.Rejected {
			return nil, fmt.Errorf("ceiling set-up: %w", r.Err)
		}
	}
	return d, nil
}

// Submit decides items in order; an atomic batch is not asked of it.
func (d *decideOnly) Submit(_ context.Context, items []commands.Item, _ bool) ([]commands.Result, error) {
	now := time.Now()
	out := make([]commands.Result, len(items))
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	for i, it := range items {
		out[i] = commands.ResultOf(d.state.Decide(commands.CommandAt(it, domain.CommandRef{Seq: d.seq, Item: i}), now))
	}
	return out, nil
}

func (d *decideOnly) appliedSeq() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state.Seq()
}

// appliedEverything is the read model of the ceiling: it has applied
// every decision, so admission never holds a write. Its queries are not
// served (the ceiling's load only writes).
type appliedEverything struct{ d *decideOnly }

var _ ledgerapi.ReadModel = appliedEverything{}

func (a appliedEverything) Applied() projections.Checkpoint {
	return projections.Checkpoint{Seq: a.d.appliedSeq()}
}

func (a appliedEverything) WaitSeq(context.Context, uint64) error { return nil }

func (a appliedEverything) Checkpoint(context.Context) (projections.Checkpoint, error) {
	return a.Applied(), nil
}

func (appliedEverything) Account(context.Context, string, string) (projections.AccountView, error) {
	return projections.AccountView{}, projections.ErrNotFound
}

func (appliedEverything) Transfer(context.Context, string) (projections.TransferView, error) {
	return projections.TransferView{}, projections.ErrNotFound
}

func (appliedEverything) Transfers(context.Context, projections.TransferFilter) (projections.Page[projections.TransferView], error) {
	return projections.Page[projections.TransferView]{}, projections.ErrNotFound
}

func (appliedEverything) Entries(context.Context, string, string, string, int) (projections.Page[projections.EntryView], error) {
	return projections.Page[projections.EntryView]{}, projections.ErrNotFound
}

func (appliedEverything) BalanceAsOf(context.Context, string, string, projections.AsOf) (projections.BalanceView, error) {
	return projections.BalanceView{}, projections.ErrNotFound
}

func (appliedEverything) Rates(context.Context) ([]projections.RateView, error) { return nil, nil }

func (appliedEverything) Accounts(context.Context, projections.AccountFilter) (projections.Page[projections.AccountView], error) {
	return projections.Page[projections.AccountView]{}, projections.ErrNotFound
}

func (appliedEverything) Assets(context.Context, int, string) (projections.Page[projections.AssetView], error) {
	return projections.Page[projections.AssetView]{}, projections.ErrNotFound
}

func (appliedEverything) Transaction(context.Context, string) (projections.TransactionView, error) {
	return projections.TransactionView{}, projections.ErrNotFound
}
