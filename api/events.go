package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// GET /v1/events: the journal as server-sent events. Each client reads
// through its own journal subscription (EventFeed), which fills a bounded
// buffer that the handler drains to the socket; a client that accepts
// nothing for SlowClientWait is dropped, and it alone: the subscription is
// the client's, so nobody else, and not the ledger, waits for it.

// EventFeed follows the journal for the event stream.
type EventFeed interface {
	// Follow calls fn with every event of the given types (every type
	// when empty) whose sequence is at least from, in ledger order; with
	// from 0, only events appended after the call. It returns nil when ctx
	// ends and fn's error when fn fails. line is the event as stored; it
	// is fn's to keep.
	Follow(ctx context.Context, from uint64, types []domain.EventType, fn func(line []byte, ev *domain.Event) error) error
}

// EventStreamConfig bounds the server-sent event streams. Zero values take
// the defaults.
type EventStreamConfig struct {
	// ClientsMax bounds concurrent streams; more are answered 503.
	ClientsMax int
	// BufferEvents bounds the events queued for one client.
	BufferEvents int
	// Heartbeat is the interval of the comment lines that keep idle
	// connections (and proxies) open.
	Heartbeat time.Duration
	// SlowClientWait is how long a client may accept nothing (a full
	// buffer, or a write that does not complete) before it is dropped. It
	// is also each write's deadline, which replaces the HTTP server's
	// WriteTimeout on this route.
	SlowClientWait time.Duration
	// Done, when closed, ends every stream. Streams also end when the
	// http.Server serving them shuts down (Shutdown would otherwise wait
	// for them until its context ends).
	Done <-chan struct{}
}

// Defaults of EventStreamConfig.
const (
	DefaultEventClientsMax     = 256
	DefaultEventBufferEvents   = 1_024
	DefaultEventHeartbeat      = 15 * time.Second
	DefaultEventSlowClientWait = 10 * time.Second
	// eventWriteBatchMax bounds the queued events written before a flush.
	eventWriteBatchMax = 256
	// eventRetryMillis is the reconnection delay the stream suggests to
	// clients (the SSE retry field).
	eventRetryMillis = 2_000
)

// errSlowClient ends a stream whose client accepts nothing.
var errSlowClient = errors.New("event stream client too slow")

// eventStreams serves GET /v1/events.
type eventStreams struct {
	s     *Server
	cfg   EventStreamConfig
	feed  EventFeed
	slots chan struct{} // one per open stream

	mu        sync.Mutex
	shutdowns map[*http.Server]chan struct{} // closed when that server shuts down
}

func newEventStreams(s *Server, feed EventFeed, cfg EventStreamConfig) *eventStreams {
	if cfg.ClientsMax <= 0 {
		cfg.ClientsMax = DefaultEventClientsMax
	}
	if cfg.BufferEvents <= 0 {
		cfg.BufferEvents = DefaultEventBufferEvents
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultEventHeartbeat
	}
	if cfg.SlowClientWait <= 0 {
		cfg.SlowClientWait = DefaultEventSlowClientWait
	}
	return &eventStreams{s: s, cfg: cfg, feed: feed, slots: make(chan struct{}, cfg.ClientsMax),
		shutdowns: map[*http.Server]chan struct{}{}}
}

// shutdown returns a channel closed when the http.Server serving r shuts
// down (nil if r does not say which server it is): the stream's cue to
// end, so that a graceful shutdown need not wait for it. One hook is
// registered per server.
func (h *eventStreams) shutdown(r *http.Request) <-chan struct{} {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok || srv == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, ok := h.shutdowns[srv]
	if !ok {
		ch = make(chan struct{})
		h.shutdowns[srv] = ch
		srv.RegisterOnShutdown(func() { close(ch) })
	}
	return ch
}

// eventQuery is a stream request: where to start and what to send.
type eventQuery struct {
	from    uint64 // 0: new events only
	types   []domain.EventType
	account string
}

// parseEventQuery reads from (or Last-Event-ID, which wins: a browser
// reconnects with the original URL and the last id it saw), type (repeated
// or comma-separated) and account.
func parseEventQuery(c echo.Context) (eventQuery, error) {
	var q eventQuery
	qp := c.QueryParams()
	if raw := qp.Get("from"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 63)
		if err != nil || n == 0 {
			return q, &domain.FieldError{Field: "from", Reason: "must be a ledger sequence, 1 or more"}
		}
		q.from = n
	}
	if raw := strings.TrimSpace(c.Request().Header.Get("Last-Event-ID")); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 63)
		if err != nil {
			return q, &domain.FieldError{Field: "Last-Event-ID", Reason: "must be a ledger sequence"}
		}
		q.from = n + 1
	}
	for _, v := range qp["type"] {
		for _, t := range strings.Split(v, ",") {
			typ := domain.EventType(strings.TrimSpace(t))
			if !slices.Contains(domain.EventTypes, typ) {
				return q, &domain.FieldError{Field: "type", Reason: "must be one of " + eventTypeList}
			}
			if !slices.Contains(q.types, typ) {
				q.types = append(q.types, typ)
			}
		}
	}
	if q.account = qp.Get("account"); q.account != "" {
		if err := domain.ValidateID("account", q.account); err != nil {
			return q, err
		}
	}
	return q, nil
}

// eventTypeList names every event type, for errors.
var eventTypeList = func() string {
	names := make([]string, len(domain.EventTypes))
	for i, t := range domain.EventTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}()

// authorize applies the rule of GET /v1/transfers: a non-admin filters by
// an account it owns, and then sees only the events that involve it.

func (h *eventStreams) authorize(c echo.Context, q eventQuery) error {
	if principalOf(c).Admin() {
		return nil
	}
	if q.account == "" || q.account == domain.World {
		return problem(CodeForbidden, "this token must filter by an account it owns (account)")
	}
	v, err := h.s.read.Account(c.Request().Context(), q.account, "")
	if err != nil && !errors.Is(err, projections.ErrNotFound) {
		return h.s.readError(err, CodeTransferNotFound)
	}
	if err != nil || !canRead(c, v.Owner) {
		return problem(CodeForbidden, "this token may stream only the events of accounts it owns")
	}
	return nil
}

// sseEvent is one queued event.
type sseEvent struct {
	seq  uint64
	typ  domain.EventType
	line []byte
}

// stream serves one client: the journal's events from the query's start,
// filtered, until the client leaves or is too slow, the feed fails, or
// the server shuts down.
func (h *eventStreams) stream(c echo.Context) error {
	q, err := parseEventQuery(c)
	if err != nil {
		return err
	}
	if err := h.authorize(c, q); err != nil {
		return err
	}
	if h.feed == nil {
		return problem(CodeUnavailable, "the event stream is not configured on this server")
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		return problem(CodeUnavailable, "too many event streams are open; retry later")
	}
	if out := h.open(c); out != nil {
		h.s.cfg.Observer.StreamOpened()
		defer h.s.cfg.Observer.StreamClosed()
		h.serve(c, q, out)
	}
	return nil
}

// open answers 200 with the stream's headers and its retry field, and
// returns the writer of the events that follow: nil for a HEAD request, or
// when the client is already gone.
func (h *eventStreams) open(c echo.Context) *sseWriter {
	w := c.Response()
	rc := http.NewResponseController(w)
	// The request is read; the server's read deadline would otherwise end
	// the request's context mid-stream. Each write sets its own deadline.
	_ = rc.SetReadDeadline(time.Time{})
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if isHEAD(c) { // the headers a GET gets, without the endless body
		return nil
	}
	out := &sseWriter{w: w, rc: rc, wait: h.cfg.SlowClientWait}
	if err := out.write([]byte("retry: " + strconv.Itoa(eventRetryMillis) + "\n\n")); err != nil {
		return nil
	}
	return out
}

// serve follows the feed on another goroutine, which queues the events
// (enqueue), and writes them to out, with heartbeats while there are none,
// until the stream ends; it then stops the feed and logs why it ended.
func (h *eventStreams) serve(c echo.Context, q eventQuery, out *sseWriter) {
	ctx, cancel := context.WithCancel(c.Request().Context())
	queue := make(chan sseEvent, h.cfg.BufferEvents)
	feedDone := make(chan error, 1)
	go func() { feedDone <- h.feed.Follow(ctx, q.from, q.types, h.enqueue(ctx, queue, q.account)) }()
	var feedErr error
	defer func() {
		cancel()
		if feedDone != nil {
			feedErr = <-feedDone
		}
		switch {
		case errors.Is(feedErr, errSlowClient):
			h.s.log.Info("event stream client dropped: too slow", "remote", c.RealIP(), "wait", h.cfg.SlowClientWait)
		case feedErr != nil && !errors.Is(feedErr, context.Canceled):
			h.s.log.Error("event stream ended", "err", feedErr)
		}
	}()

	shutdown := h.shutdown(c.Request())
	heartbeat := time.NewTicker(h.cfg.Heartbeat)
	defer heartbeat.Stop()
	var buf bytes.Buffer
	for {
		select {
		case ev := <-queue:
			if err := out.write(queuedSSE(&buf, ev, queue)); err != nil {
				return // the client is gone or too slow: drop it
			}
		case <-heartbeat.C:
			if err := out.write([]byte(": heartbeat\n\n")); err != nil {
				return
			}
		case feedErr = <-feedDone:
			feedDone = nil
			if errors.Is(feedErr, errSlowClient) {
				_ = out.writeWithin([]byte(": dropped: too slow; reconnect with Last-Event-ID\n\n"), time.Second)
			}
			return
		case <-h.cfg.Done:
			return
		case <-shutdown:
			return
		case <-ctx.Done():
			return
		}
	}
}

// queuedSSE formats ev and the events queued behind it, up to
// eventWriteBatchMax in all, into buf, to be written at once, and returns
// buf's bytes.
func queuedSSE(buf *bytes.Buffer, ev sseEvent, queue <-chan sseEvent) []byte {
	buf.Reset()
	appendSSE(buf, ev)
	for n := 1; n < eventWriteBatchMax; n++ {
		select {
		case ev := <-queue:
			appendSSE(buf, ev)
			continue
		default:
		}
		break
	}
	return buf.Bytes()
}

// enqueue is the feed's callback: it keeps the events the client may see
// and queues them, dropping the client if the queue stays full for
// SlowClientWait.
func (h *eventStreams) enqueue(ctx context.Context, queue chan<- sseEvent, account string) func([]byte, *domain.Event) error {
	return func(line []byte, ev *domain.Event) error {
		if account != "" && !ev.Involves(account) {
			return nil
		}
		e := sseEvent{seq: ev.Seq, typ: ev.Type, line: bytes.Clone(line)}
		select {
		case queue <- e:
			return nil
		default:
		}
		t := time.NewTimer(h.cfg.SlowClientWait)
		defer t.Stop()
		select {
		case queue <- e:
			return nil
		case <-t.C:
			return errSlowClient
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// appendSSE writes one event in the text/event-stream format. A stored
// line is one line of JSON (newlines inside strings are escaped), so it
// fits one data field.
func appendSSE(buf *bytes.Buffer, ev sseEvent) {
	buf.WriteString("id: ")
	buf.WriteString(strconv.FormatUint(ev.seq, 10))
	buf.WriteString("\nevent: ")
	buf.WriteString(string(ev.typ))
	buf.WriteString("\ndata: ")
	buf.Write(ev.line)
	buf.WriteString("\n\n")
}

// sseWriter writes and flushes with a deadline per write, so a long stream
// outlives the server's WriteTimeout and a stuck client is noticed.
type sseWriter struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	wait time.Duration
}

func (s *sseWriter) write(b []byte) error { return s.writeWithin(b, s.wait) }

func (s *sseWriter) writeWithin(b []byte, wait time.Duration) error {
	// Not every ResponseWriter supports deadlines (test recorders): then
	// the server's own timeouts apply.
	_ = s.rc.SetWriteDeadline(time.Now().Add(wait))
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}
