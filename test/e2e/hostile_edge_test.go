package e2e_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api"
)

// Hostile cases at the transport's edge: what the HTTP server itself
// refuses, and methods the routes did not list.

// edgeServer serves l's handler behind the http.Server ledger serve uses
// (api.NewHTTPServer), so that its header limits apply, and returns its
// address.
func edgeServer(t *testing.T, l *e2eLedger) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewHTTPServer(l.node.Handler)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// rawRequest writes a GET of path with one X-Pad header, sized so that
// the header section (request line, Host, X-Pad and the blank line) is
// exactly size bytes, and returns the response with its whole body.
func rawRequest(t *testing.T, addr, path string, size int) (*http.Response, []byte) {
	t.Helper()
	head := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nX-Pad: "
	tail := "\r\nConnection: close\r\n\r\n"
	pad := size - len(head) - len(tail)
	if pad < 1 {
		t.Fatalf("size %d is too small", size)
	}
	req := head + strings.Repeat("a", pad) + tail
	if len(req) != size {
		t.Fatalf("built %d bytes, want %d", len(req), size)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(e2eClientWait))
	// The server may answer and close before it has read everything (as
	// net/http does past its own limit): a write error is not the test's
	// business, the answer is.
	go func() { _, _ = io.WriteString(conn, req) }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer to a %d-byte header: %v", size, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read the body of the answer to a %d-byte header: %v", size, err)
	}
	return res, body
}

// TestHostileEdgeHeaderLimit sends header sections around the documented
// 16 KiB limit through the server ledger serve runs: at the limit the
// request is served; one byte over it is 431 headers_too_large as a
// problem (net/http's own limit, with its 4 KiB of slack, used to let
// ~20 KB through and then answer in plain text); past net/http's hard
// limit the plain-text 431 that docs/errors.md lists is all there is.
func TestHostileEdgeHeaderLimit(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	addr := edgeServer(t, l)

	res, body := rawRequest(t, addr, "/healthz", api.MaxHeaderBytes)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("a header section of exactly %d bytes: %d %s", api.MaxHeaderBytes, res.StatusCode, body)
	}
	for _, size := range []int{api.MaxHeaderBytes + 1, 20 << 10, 60 << 10} {
		res, body = rawRequest(t, addr, "/healthz", size)
		r := e2eResp{Method: http.MethodGet, Path: "/healthz", Status: res.StatusCode, Header: res.Header, Body: body}
		p := e2eCheckProblem(t, r, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large", "")
		if !strings.Contains(p.Detail, "16 KiB") {
			t.Errorf("%d bytes: detail %q does not name the limit", size, p.Detail)
		}
	}
	res, body = rawRequest(t, addr, "/healthz", 80<<10)
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || mt != "text/plain" {
		t.Fatalf("past net/http's limit: %d %q %s; docs/errors.md says 431 text/plain", res.StatusCode, mt, body)
	}
}

// TestHostileEdgeHEAD checks that every path that takes GET takes HEAD,
// with GET's status and headers and no body, that HEAD on a path without
// GET is still 405 as a problem, and that HEAD on the event stream ends
// rather than streaming.
func TestHostileEdgeHEAD(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.mint(t, "alice", "10.00")
	l.settle(t)

	for _, path := range []string{
		"/healthz", "/readyz", "/openapi.json",
		"/v1/accounts/alice", "/v1/accounts/alice/entries", "/v1/accounts/alice/balance",
		"/v1/transfers", "/v1/webhooks", "/v1/status", "/v1/accounts", "/v1/assets",
		"/v1/accounts/nobody", // a 404 is as GET's too
	} {
		get := l.do(t, http.MethodGet, path, nil)
		head := l.do(t, http.MethodHead, path, nil)
		if head.Status != get.Status || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") || len(head.Body) != 0 {
			t.Errorf("HEAD %s: %d %q, %d body bytes; GET: %d %q", path, head.Status, head.Header.Get("Content-Type"), len(head.Body),
				get.Status, get.Header.Get("Content-Type"))
		}
	}
	// Without a token, HEAD is refused as GET is.
	if r := l.do(t, http.MethodHead, "/v1/transfers", nil, "Authorization", ""); r.Status != http.StatusUnauthorized {
		t.Errorf("HEAD /v1/transfers without a token: %d", r.Status)
	}
	// Paths without GET: 405 with the problem's headers.
	for _, path := range []string{"/v1/rates/USD/EUR", "/v1/accounts/alice/freeze"} {
		r := l.do(t, http.MethodHead, path, nil)
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Status != http.StatusMethodNotAllowed || mt != "application/problem+json" {
			t.Errorf("HEAD %s: %d %q, want 405 application/problem+json", path, r.Status, mt)
		}
	}
	// The GET of a 405 still carries the problem body HEAD does not.
	var p struct{ Code string }
	if r := l.do(t, http.MethodGet, "/v1/rates/USD/EUR", nil); json.Unmarshal(r.Body, &p) != nil || p.Code != "method_not_allowed" {
		t.Errorf("GET /v1/rates/USD/EUR: %s", r)
	}
	// The event stream: the client's timeout (e2eClientWait) would fail
	// this if HEAD streamed.
	r := l.do(t, http.MethodHead, "/v1/events", nil)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Status != http.StatusOK || mt != "text/event-stream" {
		t.Errorf("HEAD /v1/events: %d %q", r.Status, mt)
	}
}
