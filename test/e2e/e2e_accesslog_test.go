package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/nats-ledger/ledger/node"
)

// e2eLogBuffer collects a ledger's log output, written from the server's
// goroutines and read by the test's.
type e2eLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *e2eLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// accessLines returns the access-log lines (msg "request") logged so far,
// decoded.
func (b *e2eLogBuffer) accessLines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// accessLine waits for the access-log line of the request with id: the
// line is written once the answer is sent, so it may follow the answer.
func (b *e2eLogBuffer) accessLine(t *testing.T, id string) map[string]any {
	t.Helper()
	var found map[string]any
	e2eEventually(t, e2eOutcomeWait, "the access-log line of request "+id, func() (bool, string) {
		n := 0
		for _, m := range b.accessLines(t) {
			if m["request_id"] == id {
				found = m
				n++
			}
		}
		return n == 1, fmt.Sprintf("%d lines with request_id %s", n, id)
	})
	return found
}

var e2eGeneratedRequestID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestE2EAccessLog checks, through HTTP and the log output of a real
// ledger, that every request is logged once with its method, route
// pattern, status, duration and request id; that a sane X-Request-Id is
// kept and an unsafe or overlong one replaced; and that the id is echoed
// in the answer and in its problem body.
func TestE2EAccessLog(t *testing.T) {
	logs := &e2eLogBuffer{}
	l := e2eStartWith(t, node.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	l.defineAsset(t, "USD", 2)

	// A sane id is kept; the route is the pattern, never the raw path.
	r := l.do(t, http.MethodGet, "/v1/accounts/secret-ghost-17", nil, "X-Request-Id", "client-req:0001")
	p := e2eCheckProblem(t, r, http.StatusNotFound, "account_not_found", "")
	if r.Header.Get("X-Request-Id") != "client-req:0001" || p.RequestID != "client-req:0001" {
		t.Errorf("a sane request id is not kept: header %q, problem %q", r.Header.Get("X-Request-Id"), p.RequestID)
	}
	line := logs.accessLine(t, "client-req:0001")
	want := map[string]any{"level": "INFO", "method": "GET", "route": "/v1/accounts/:id", "status": float64(404)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("access log %s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
	if d, ok := line["duration"].(float64); !ok || d <= 0 {
		t.Errorf("access log duration = %v, want a positive number of nanoseconds", line["duration"])
	}
	for _, m := range logs.accessLines(t) {
		if s := fmt.Sprint(m); strings.Contains(s, "secret-ghost-17") {
			t.Errorf("the raw path is logged: %s", s)
		}
	}

	// A success is logged too, and carries a generated id when none is sent.
	r = l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "alice", "asset": "USD"})
	id := r.Header.Get("X-Request-Id")
	if r.Status != http.StatusCreated || !e2eGeneratedRequestID.MatchString(id) {
		t.Fatalf("open alice: %s, X-Request-Id %q, want 201 and a generated id", r, id)
	}
	if line := logs.accessLine(t, id); line["route"] != "/v1/accounts" || line["status"] != float64(201) || line["method"] != "POST" {
		t.Errorf("access log of the opening: %v", line)
	}

	// Unsafe or overlong ids are replaced, never copied into logs or bodies.
	for _, bad := range []string{"a b", `x"y`, "id\u00e9", strings.Repeat("a", 129)} {
		r := l.do(t, http.MethodPost, "/v1/transfers", `{"from":"alice","to":"alice","amount":"1"}`, "X-Request-Id", bad)
		p := e2eCheckProblem(t, r, http.StatusBadRequest, "same_account", "")
		if got := r.Header.Get("X-Request-Id"); !e2eGeneratedRequestID.MatchString(got) || p.RequestID != got {
			t.Errorf("X-Request-Id %q: answered with %q (problem %q), want a generated id", bad, got, p.RequestID)
			continue
		}
		if line := logs.accessLine(t, p.RequestID); line["route"] != "/v1/transfers" || line["status"] != float64(400) {
			t.Errorf("access log of a refused transfer: %v", line)
		}
	}

	// Refusals before routing are logged, without a route.
	r = l.do(t, http.MethodGet, "/v1/nope/secret-ghost-17", nil, "X-Request-Id", "req-unrouted")
	e2eCheckProblem(t, r, http.StatusNotFound, "not_found", "")
	if line := logs.accessLine(t, "req-unrouted"); line["route"] != "-" || line["status"] != float64(404) {
		t.Errorf("access log of an unknown route: %v", line)
	}
}
