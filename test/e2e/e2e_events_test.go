package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/node"
)

// End-to-end tests of GET /v1/events: a real ledger, real HTTP, a client
// that parses the text/event-stream format.

// e2eEventsConfig is the stream configuration of these tests: short
// heartbeats, so that they are seen.
var e2eEventsConfig = api.EventStreamConfig{Heartbeat: 100 * time.Millisecond}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	ID    uint64
	Event string
	Data  string
}

// sseStream is an open event stream read in the background.
type sseStream struct {
	resp       *http.Response
	events     chan sseEvent
	mu         sync.Mutex
	comments   []string
	retry      string
	ended      chan struct{} // closed when the server ends the stream
	cancel     context.CancelFunc
	readerDone chan struct{}
}

// sseBufferEvents bounds what a test stream buffers unread.
const sseBufferEvents = 10_000

// openEvents opens GET /v1/events?query on base with client, checks the
// 200 and the content type, and parses it in the background until the
// test ends or close is called. header is name, value pairs.
func (l *e2eLedger) openEvents(t *testing.T, client *http.Client, base, query string, header ...string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /v1/events%s: %v", query, err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("GET /v1/events%s: %d %s %s", query, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	s := &sseStream{resp: resp, events: make(chan sseEvent, sseBufferEvents), ended: make(chan struct{}), cancel: cancel, readerDone: make(chan struct{})}
	go s.read()
	t.Cleanup(s.close)
	return s
}

// read parses the stream: fields up to a blank line make an event; lines
// starting with ':' are comments.
func (s *sseStream) read() {
	defer close(s.readerDone)
	defer close(s.ended)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Event != "" || ev.Data != "" {
				s.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			s.mu.Lock()
			s.comments = append(s.comments, strings.TrimSpace(line[1:]))
			s.mu.Unlock()
		case strings.HasPrefix(line, "id: "):
			ev.ID, _ = strconv.ParseUint(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			ev.Event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.Data = line[6:]
		case strings.HasPrefix(line, "retry: "):
			s.mu.Lock()
			s.retry = line[7:]
			s.mu.Unlock()
		}
	}
}

// close disconnects, as a client that goes away.
func (s *sseStream) close() {
	s.cancel()
	s.resp.Body.Close()
	<-s.readerDone
}

// next returns the next event, failing the test after e2eOutcomeWait.
func (s *sseStream) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case <-s.ended:
		select {
		case ev := <-s.events:
			return ev
		default:
		}
		t.Fatal("the event stream ended")
	case <-time.After(e2eOutcomeWait):
		t.Fatalf("no event within %v", e2eOutcomeWait)
	}
	return sseEvent{}
}

// expectNone checks that no event arrives for a moment.
func (s *sseStream) expectNone(t *testing.T) {
	t.Helper()
	select {
	case ev := <-s.events:
		t.Fatalf("unexpected event %d %s", ev.ID, ev.Event)
	case <-time.After(150 * time.Millisecond):
	}
}

func (s *sseStream) commentsSeen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.comments)
}

// checkEvent checks that a streamed event is the journal's event: same
// sequence, type and hash, its data the stored line.
func checkEvent(t *testing.T, got sseEvent, want *domain.Event) {
	t.Helper()
	var ev domain.Event
	if err := json.Unmarshal([]byte(got.Data), &ev); err != nil {
		t.Fatalf("event %d: data is not an event: %v: %s", got.ID, err, got.Data)
	}
	if got.ID != want.Seq || got.Event != string(want.Type) || ev.Seq != want.Seq || ev.Type != want.Type || ev.Hash != want.Hash {
		t.Fatalf("streamed id %d event %s (data seq %d %s hash %s), want %d %s hash %s", got.ID, got.Event, ev.Seq, ev.Type, ev.Hash, want.Seq, want.Type, want.Hash)
	}
	if _, err := domain.VerifyLine([]byte(got.Data), mustParseHash(t, want.PrevHash)); err != nil {
		t.Fatalf("event %d: data is not the stored line: %v", got.ID, err)
	}
}

func mustParseHash(t *testing.T, s string) domain.Hash {
	t.Helper()
	h, err := domain.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// e2eStreamClient has no overall timeout: streams are long.
func e2eStreamClient() *http.Client { return &http.Client{Transport: &http.Transport{}} }

// seedPayments defines USD, opens alice and bob (owned by themselves),
// mints 100 to alice and posts n payments of 1.00 from alice to bob.
func (l *e2eLedger) seedPayments(t *testing.T, n int) {
	t.Helper()
	l.defineAsset(t, "USD", 2)
	for _, id := range []string{"alice", "bob"} {
		r := l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": id, "asset": "USD", "owner": id})
		e2eJSON[e2eAccount](t, r, http.StatusCreated)
	}
	l.mint(t, "alice", "100.00")
	l.pay(t, "p", n)
}

// pay posts n payments of 1.00 from alice to bob with ids prefix0...
func (l *e2eLedger) pay(t *testing.T, prefix string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		l.post(t, map[string]any{"id": fmt.Sprintf("%s%d", prefix, i), "from": "alice", "to": "bob", "amount": "1.00"})
	}
}

// TestE2EEventsResume streams the journal from the start, disconnects,
// and resumes with Last-Event-ID: every event once, in order, as stored,
// with no gap across the disconnect and the events posted meanwhile.
func TestE2EEventsResume(t *testing.T) {
	t.Parallel()
	l := e2eStartWith(t, node.Config{EventStream: e2eEventsConfig})
	l.seedPayments(t, 3) // seq 1-7
	client := e2eStreamClient()

	s := l.openEvents(t, client, l.base, "?from=1")
	j := l.journal(t)
	for _, want := range j[:5] {
		checkEvent(t, s.next(t), want)
	}
	s.close()
	l.pay(t, "q", 2) // seq 8-9, while disconnected
	s = l.openEvents(t, client, l.base, "?from=1", "Last-Event-ID", "5")
	j = l.journal(t)
	if len(j) != 9 {
		t.Fatalf("journal has %d events, want 9", len(j))
	}
	for _, want := range j[5:] {
		checkEvent(t, s.next(t), want)
	}
	l.pay(t, "r", 1) // live
	j = l.journal(t)
	checkEvent(t, s.next(t), j[9])
	s.expectNone(t)
	e2eEventually(t, e2eOutcomeWait, "a heartbeat comment", func() (bool, string) {
		c := s.commentsSeen()
		return slices.Contains(c, "heartbeat"), fmt.Sprint(c)
	})
	s.mu.Lock()
	retry := s.retry
	s.mu.Unlock()
	if retry == "" {
		t.Error("no retry field at the start of the stream")
	}

	// Without from or Last-Event-ID: only what comes next.
	n := l.openEvents(t, client, l.base, "")
	n.expectNone(t)
	l.pay(t, "s", 1)
	j = l.journal(t)
	checkEvent(t, n.next(t), j[len(j)-1])
}

// TestE2EEventsFilters filters by type and by account, and holds a
// non-admin token to the rule of GET /v1/transfers.
func TestE2EEventsFilters(t *testing.T) {
	t.Parallel()
	l := e2eStartWith(t, node.Config{EventStream: e2eEventsConfig})
	l.seedPayments(t, 2)
	l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "carol", "asset": "USD", "owner": "carol"})
	l.mint(t, "carol", "5.00")
	r := l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "big", "from": "alice", "to": "bob", "amount": "1000"})
	e2eCheckProblem(t, r, http.StatusUnprocessableEntity, "insufficient_funds", "")
	j := l.journal(t)
	client := e2eStreamClient()
	expect := func(s *sseStream, keep func(*domain.Event) bool) {
		t.Helper()
		n := 0
		for _, ev := range j {
			if keep(ev) {
				checkEvent(t, s.next(t), ev)
				n++
			}
		}
		if n == 0 {
			t.Fatal("the filter keeps nothing")
		}
		s.expectNone(t)
	}

	types := []domain.EventType{domain.EventTransferRejected, domain.EventAccountOpened}
	expect(l.openEvents(t, client, l.base, "?from=1&type=TransferRejected,AccountOpened"),
		func(ev *domain.Event) bool { return slices.Contains(types, ev.Type) })
	expect(l.openEvents(t, client, l.base, "?from=1&type=TransferPosted&type=TransferRejected&account=carol"),
		func(ev *domain.Event) bool { return ev.Transfer != nil && ev.Involves("carol") })

	// A non-admin: only an account it owns, and only its events.
	bob := l.as(l.tokenFor(t, "bob", time.Hour, api.ScopeTransfersRead))
	expect(bob.openEvents(t, client, l.base, "?from=1&account=bob"), func(ev *domain.Event) bool { return ev.Involves("bob") })
	for query, code := range map[string]string{
		"?from=1":               "forbidden",
		"?from=1&account=alice": "forbidden",
		"?account=ghost":        "forbidden",
		"?account=world":        "forbidden",
	} {
		e2eCheckProblem(t, bob.do(t, http.MethodGet, "/v1/events"+query, nil), http.StatusForbidden, code, "")
	}
	noScope := l.as(l.tokenFor(t, "bob", time.Hour, api.ScopeAccountsRead))
	e2eCheckProblem(t, noScope.do(t, http.MethodGet, "/v1/events?account=bob", nil), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/events", nil, "Authorization", ""), http.StatusUnauthorized, "unauthorized", "")
	for _, query := range []string{"?from=0", "?from=x", "?type=Nope", "?account=a%20b"} {
		e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/events"+query, nil), http.StatusBadRequest, "validation_failed", "")
	}
	e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/events", nil, "Last-Event-ID", "x"), http.StatusBadRequest, "validation_failed", "Last-Event-ID")
}

// smallBuffers shrinks the kernel's socket buffers of every connection a
// listener accepts, so that a client that stops reading blocks the
// server's writes after a few kilobytes rather than megabytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

// TestE2EEventsSlowClientDropped has a client that stops reading while
// the ledger writes: it is dropped, while another client on the same
// server receives everything promptly and the ledger keeps posting.
func TestE2EEventsSlowClientDropped(t *testing.T) {
	t.Parallel()
	l := e2eStartWith(t, node.Config{EventStream: api.EventStreamConfig{
		BufferEvents: 8, SlowClientWait: 300 * time.Millisecond, Heartbeat: time.Minute}})
	l.seedPayments(t, 0)
	srv := httptest.NewUnstartedServer(l.node.Handler)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close) // after the streams close: cleanups run last first
	slowClient := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10)
		}
		return c, err
	}}}
	slow := l.openEvents(t, slowClient, srv.URL, "?from=1")
	fast := l.openEvents(t, e2eStreamClient(), srv.URL, "?from=1")

	// About 600 KB of events: each payment carries a long reference.
	const payments = 400
	var batch []map[string]any
	for i := 0; i < payments; i++ {
		batch = append(batch, map[string]any{"id": fmt.Sprintf("b%d", i), "from": "alice", "to": "bob", "amount": "0.01",
			"reference": strings.Repeat("x", 500), "metadata": map[string]string{"n": strconv.Itoa(i)}})
	}
	began := time.Now()
	r := l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": batch})
	if r.Status != http.StatusOK {
		t.Fatalf("batch: %s", r)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("the batch took %v while a client was stuck", d)
	}
	total := uint64(4 + payments)
	for want := uint64(1); want <= total; want++ {
		if ev := fast.next(t); ev.ID != want {
			t.Fatalf("fast client: event %d, want %d", ev.ID, want)
		}
	}
	// The slow client, reading at last, finds its stream ended early.
	var got uint64
	deadline := time.After(e2eOutcomeWait)
	for {
		select {
		case ev := <-slow.events:
			if ev.ID != got+1 {
				t.Fatalf("slow client: event %d after %d", ev.ID, got)
			}
			got = ev.ID
			continue
		case <-slow.ended:
			for len(slow.events) > 0 {
				got = (<-slow.events).ID
			}
		case <-deadline:
			t.Fatalf("the slow client was not dropped: %d events read so far", got)
		}
		break
	}
	if got >= total {
		t.Fatalf("the slow client received all %d events; it should have been dropped", got)
	}
	t.Logf("slow client dropped after %d of %d events", got, total)
}

// TestE2EEventsOutliveWriteTimeout serves the stream from an HTTP server
// with short read and write timeouts: the stream stays open past both.
func TestE2EEventsOutliveWriteTimeout(t *testing.T) {
	t.Parallel()
	l := e2eStartWith(t, node.Config{EventStream: e2eEventsConfig})
	l.seedPayments(t, 0)
	srv := httptest.NewUnstartedServer(l.node.Handler)
	srv.Config.WriteTimeout, srv.Config.ReadTimeout = 300*time.Millisecond, 300*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close) // after the stream closes: cleanups run last first
	s := l.openEvents(t, e2eStreamClient(), srv.URL, "?from=1")
	for want := uint64(1); want <= 4; want++ {
		if ev := s.next(t); ev.ID != want {
			t.Fatalf("event %d, want %d", ev.ID, want)
		}
	}
	time.Sleep(time.Second) // past both timeouts
	l.pay(t, "late", 1)
	if ev := s.next(t); ev.ID != 5 {
		t.Fatalf("event %d after the timeouts, want 5", ev.ID)
	}

	// A graceful shutdown ends the stream rather than wait for it.
	ctx, cancel := context.WithTimeout(context.Background(), e2eOutcomeWait)
	defer cancel()
	began := time.Now()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a stream open: %v after %v", err, time.Since(began))
	}
	select {
	case <-s.ended:
	case <-time.After(e2eOutcomeWait):
		t.Fatal("the stream did not end at shutdown")
	}
}
