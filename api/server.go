// Package api is the ledger's HTTP interface (Echo): JSON handlers, the
// OpenAPI document, and the one table that maps stable error codes to HTTP
// statuses. It validates the shape of requests, hands them to the
// processor through a Submitter, and reads from the read models.
package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.opentelemetry.io/otel/trace"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/projections"
	"github.com/nats-ledger/ledger/webhook"
)

// Submitter is the port to the processor, declared with its errors in
// commands/ports.go.
type Submitter = commands.Submitter

// ReadModel is what the API reads. Methods return projections.ErrNotFound
// for a missing account or transfer and projections.ErrBadCursor for a
// cursor they did not issue.
type ReadModel interface {
	Account(ctx context.Context, id, asset string) (projections.AccountView, error)
	Transfer(ctx context.Context, id string) (projections.TransferView, error)
	Transfers(ctx context.Context, f projections.TransferFilter) (projections.Page[projections.TransferView], error)
	Entries(ctx context.Context, account, asset, cursor string, limit int) (projections.Page[projections.EntryView], error)
	BalanceAsOf(ctx context.Context, account, asset string, asOf projections.AsOf) (projections.BalanceView, error)
	// Rates returns the rate table, by base and quote.
	Rates(ctx context.Context) ([]projections.RateView, error)
	// Accounts returns a page of the accounts f selects, by id;
	// projections.ErrBadCursor or ErrBadLimit for a bad page.
	Accounts(ctx context.Context, f projections.AccountFilter) (projections.Page[projections.AccountView], error)
	// Assets returns a page of the defined assets, by code; errors as Accounts.
	Assets(ctx context.Context, limit int, cursor string) (projections.Page[projections.AssetView], error)
	// Transaction returns a multi-leg transaction, posted or rejected.
	Transaction(ctx context.Context, id string) (projections.TransactionView, error)
	Checkpoint(ctx context.Context) (projections.Checkpoint, error)
	// Applied returns the checkpoint as last committed, from memory.
	Applied() projections.Checkpoint
	// WaitSeq returns once the read model has applied sequence seq.
	WaitSeq(ctx context.Context, seq uint64) error
}

// Config holds the API's limits and timeouts.
type Config struct {
	// SyncTimeout bounds how long a synchronous request waits for the
	// processor's outcome before answering 202 with a Location.
	SyncTimeout time.Duration
	// ReadWait bounds how long a read waits for the read model to apply
	// the writes this server has acknowledged (default 2 s; see
	// consistency.go); past it the read answers 503.
	ReadWait time.Duration
	// MaxReadLag bounds how far (in events) the read model may fall behind
	// the journal, counting the writes in flight, before new writes wait
	// (DefaultMaxReadLag when zero).
	MaxReadLag int
	// JournalSeq returns the last sequence appended to the journal, from
	// memory; with it the lag bound also covers writes answered 202 and
	// decided since. Nil: only the sequences this server answered count.
	JournalSeq func() uint64
	// Undecided returns the items stored in the commands stream and not
	// yet decided (stored without waiting, or before this server started),
	// so the lag bound covers them too, whatever the processor is doing.
	// Nil: none are counted.
	Undecided func() uint64
	// StartSeq is the journal's last sequence when this server started.
	// Reads wait for the read model to apply it, as for a write this
	// server acknowledged: the outcomes answered before a restart are in
	// the journal, not in this server's memory (durability.md).
	StartSeq uint64
	// Restored reports whether every command stored before this server
	// started is decided, and the journal sequence that covers their
	// decisions. Until then a transfer the read model does not have may
	// be one of them, and GET answers 503 rather than 404. Nil: always
	// restored.
	Restored func() (seq uint64, ok bool)
	// MaxBodyBytes bounds a request body; larger ones get 413.
	MaxBodyBytes int64
	// Ready reports nil when NATS, the processor and the projections are
	// up and caught up.
	Ready func(context.Context) error
	// Auth authenticates bearer tokens. Nil refuses every request to a
	// protected route: authentication is never off.
	Auth Authenticator
	// RateLimit is the requests per second allowed to each non-admin
	// token, with bursts of twice that; 0 disables the limit.
	RateLimit float64
	Logger    *slog.Logger
	// Tracer, when set, gives every request a span (tracing.go) that the
	// command messages carry on; nil is tracing off: no spans, no
	// traceparent headers.
	Tracer trace.Tracer
	// Events follows the journal for GET /v1/events (503 when nil), within
	// the bounds of EventStream.
	Events      EventFeed
	EventStream EventStreamConfig
	// Webhooks stores and delivers webhooks (/v1/webhooks; 503 when nil).
	Webhooks webhook.Registry
	// Status reports the journal's and the read model's positions for
	// GET /v1/status (503 when nil or failing). It is polled under load:
	// it should answer from memory, not with a JetStream request.
	Status func(context.Context) (StatusView, error)
	// Locate finds the journal record holding a ledger sequence for GET
	// /v1/journal/locate (503 when nil).
	Locate Locator
	// Checkpoints signs and serves the journal's checkpoints
	// (/v1/checkpoints; 503 when nil).
	Checkpoints Checkpointer
	// Metrics serves GET /metrics (503 when nil); Observer is told each
	// request and event stream (metrics.go; nobody when nil).
	Metrics  http.Handler
	Observer Observer
}

// Defaults for Config.
const (
	DefaultSyncTimeout  = 5 * time.Second
	DefaultMaxBodyBytes = 64 << 10 // a transfer with full metadata is under 20 KB
	// publishTimeout bounds storing a command; past it the client is told
	// to retry with the same id, which is safe.
	publishTimeout = 5 * time.Second
	// pendingIDsMax bounds the ids remembered as submitted-but-unread.
	pendingIDsMax = 100_000
)

// Server holds the handlers' dependencies.
type Server struct {
	cfg      Config
	submit   Submitter
	read     ReadModel
	log      *slog.Logger
	pending  *pendingSet
	limits   *rateLimits
	acked    highWater    // the highest sequence answered (consistency.go)
	inflight atomic.Int64 // items admitted and not yet answered (consistency.go)
	// admitTurn and admitWaiting queue the writes admit holds.
	admitTurn    chan struct{}
	admitWaiting atomic.Int32
}

// New returns the Echo instance serving the API.
func New(cfg Config, submit Submitter, read ReadModel) *echo.Echo {
	e, _ := newServer(cfg, submit, read)
	return e
}

// setDefaults fills the zero values of c with the defaults.
func (c *Config) setDefaults() {
	if c.SyncTimeout <= 0 {
		c.SyncTimeout = DefaultSyncTimeout
	}
	if c.ReadWait <= 0 {
		c.ReadWait = defaultReadWait
	}
	if c.MaxReadLag <= 0 {
		c.MaxReadLag = DefaultMaxReadLag
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
}

func newServer(cfg Config, submit Submitter, read ReadModel) (*echo.Echo, *Server) {
	cfg.setDefaults()
	s := &Server{cfg: cfg, submit: submit, read: read, log: cfg.Logger, pending: newPendingSet(pendingIDsMax), limits: newRateLimits(cfg.RateLimit),
		admitTurn: make(chan struct{}, 1)}
	s.acked.advance(cfg.StartSeq)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Pre(accessLog(cfg.Logger)) // accesslog.go
	if cfg.Tracer != nil {
		e.Pre(traceRequests(cfg.Tracer)) // tracing.go
	}
	e.Pre(observeRequests(cfg.Observer)) // metrics.go
	e.Pre(headerLimit(MaxHeaderBytes))   // transport.go
	e.Use(middleware.Recover(), serveHEAD)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.json", s.openapi)
	e.GET("/metrics", s.metrics)

	// Every /v1 route needs a bearer token and a scope. The middleware is
	// per route, not per group, so that an unknown route is 404 and a
	// wrong method 405 rather than a group catch-all.
	v1 := routeGroup{e.Group("/v1")}
	protect := func(scope string) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{bodyLimit(cfg.MaxBodyBytes), singleQuery, s.authenticate, requireScope(scope)}
	}
	// Reads of the read model see the writes this server acknowledged.
	reads := func(scope string) []echo.MiddlewareFunc { return append(protect(scope), s.seesWrites) }
	v1.POST("/assets", s.createAsset, protect(ScopeAssetsWrite)...)
	v1.POST("/accounts", s.createAccount, protect(ScopeAccountsWrite)...)
	v1.GET("/accounts/:id", s.getAccount, reads(ScopeAccountsRead)...)
	v1.PATCH("/accounts/:id", s.updateMetadata, protect(ScopeAccountsWrite)...)
	s.lifecycleRoutes(v1, protect(ScopeAccountsWrite), reads(ScopeAccountsRead)) // handlers_lifecycle.go
	v1.GET("/accounts/:id/entries", s.listEntries, reads(ScopeAccountsRead)...)
	v1.GET("/accounts/:id/balance", s.getBalance, reads(ScopeAccountsRead)...)
	v1.POST("/transfers", s.createTransfer, protect(ScopeTransfersWrite)...)
	v1.POST("/transfers/batch", s.createBatch, bodyLimit(MaxBatchBodyBytes), singleQuery, s.authenticate, requireScope(ScopeTransfersWrite))
	v1.GET("/transfers", s.listTransfers, reads(ScopeTransfersRead)...)
	v1.GET("/transfers/:id", s.getTransfer, reads(ScopeTransfersRead)...)
	v1.POST("/transfers/:id/post", s.postHold, protect(ScopeTransfersWrite)...)
	v1.POST("/transfers/:id/void", s.voidHold, protect(ScopeTransfersWrite)...)
	v1.POST("/transfers/:id/reverse", s.reverseTransfer, append(protect(ScopeTransfersWrite), s.seesWrites)...)
	v1.POST("/transactions", s.createTransaction, protect(ScopeTransfersWrite)...)
	v1.GET("/transactions/:id", s.getTransaction, reads(ScopeTransfersRead)...)
	v1.PUT("/rates/:base/:quote", s.setRate, protect(ScopeAssetsWrite)...)
	v1.GET("/rates", s.listRates, reads(ScopeTransfersRead)...)
	events := newEventStreams(s, cfg.Events, cfg.EventStream)
	v1.GET("/events", events.stream, protect(ScopeTransfersRead)...)
	hooks := &webhookHandlers{s: s, hooks: cfg.Webhooks}
	v1.POST("/webhooks", hooks.create, protect(ScopeAdmin)...)
	v1.GET("/webhooks", hooks.list, protect(ScopeAdmin)...)
	v1.GET("/webhooks/:id", hooks.get, protect(ScopeAdmin)...)
	v1.DELETE("/webhooks/:id", hooks.delete, protect(ScopeAdmin)...)
	v1.GET("/webhooks/:id/dead-letters", hooks.deadLetters, protect(ScopeAdmin)...)
	v1.POST("/webhooks/:id/dead-letters/:seq/redeliver", hooks.redeliver, protect(ScopeAdmin)...)
	v1.GET("/status", s.status, protect(ScopeAdmin)...)
	v1.GET("/journal/locate", s.locate, protect(ScopeAdmin)...)
	// Checkpoints are read with a read scope, as the journal is
	// (ADR 0017); only an admin has one taken on demand.
	v1.GET("/checkpoints", s.listCheckpoints, protect(ScopeTransfersRead)...)
	v1.GET("/checkpoints/latest", s.latestCheckpoint, protect(ScopeTransfersRead)...)
	v1.POST("/checkpoints", s.createCheckpoint, protect(ScopeAdmin)...)
	return e, s
}

// routeGroup registers routes with their middleware composed once, at
// registration. Echo applies a route's middleware on every request, a
// closure allocated per middleware per request; composed here, the same
// functions run in the same order at no cost per request.
type routeGroup struct{ g *echo.Group }

func (r routeGroup) GET(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.g.GET(path, chain(h, mw))
}

func (r routeGroup) POST(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.g.POST(path, chain(h, mw))
}

func (r routeGroup) PUT(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.g.PUT(path, chain(h, mw))
}

func (r routeGroup) PATCH(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.g.PATCH(path, chain(h, mw))
}

func (r routeGroup) DELETE(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.g.DELETE(path, chain(h, mw))
}

// chain wraps h in mw as Echo does (the first runs first).
func chain(h echo.HandlerFunc, mw []echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// bodyLimit refuses bodies over max with 413 before any handler reads them,
// whether or not Content-Length is declared.
func bodyLimit(max int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > max {
				return problem(CodePayloadTooLarge, "request body exceeds the limit of "+formatBytes(max))
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, max)
			return next(c)
		}
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// respond writes v as JSON with the status.
func respond(c echo.Context, status int, v any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c.Response().WriteHeader(status)
	return writeJSON(c.Response(), v)
}
