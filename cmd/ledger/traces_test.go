package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// otlpReceiver is a stand-in OTLP/HTTP collector on 127.0.0.1: it keeps
// the bodies posted to /v1/traces.
type otlpReceiver struct {
	mu     sync.Mutex
	bodies [][]byte
	paths  []string
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(io.LimitReader(body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	o.bodies, o.paths = append(o.bodies, b), append(o.paths, r.Method+" "+r.URL.Path)
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// TestServeExportsTracesOverOTLP runs `ledger serve --otlp-endpoint` at a
// stand-in collector, defines an asset, stops the ledger, and finds the
// request's, the decision's and the projection's spans posted to
// /v1/traces (the export is flushed at shutdown).
func TestServeExportsTracesOverOTLP(t *testing.T) {
	recv := &otlpReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	p := startLedger(t, t.TempDir(), "--otlp-endpoint", "http://"+ln.Addr().String())
	newClient(p.url).must(t, http.MethodPost, "/v1/assets", map[string]any{"code": "USD", "scale": 2}, http.StatusCreated)
	// A read waits for the write to be projected.
	newClient(p.url).must(t, http.MethodGet, "/v1/rates", nil, http.StatusOK)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	all := bytes.Join(recv.bodies, nil)
	for _, name := range []string{"POST /v1/assets", "ledger.decide", "ledger.project", "ledger.request_id"} {
		if !bytes.Contains(all, []byte(name)) {
			t.Errorf("no %q in the %d exports", name, len(recv.bodies))
		}
	}
	for _, path := range recv.paths {
		if path != "POST /v1/traces" {
			t.Errorf("exported to %s, want POST /v1/traces", path)
		}
	}
	if !strings.Contains(p.stderr.String(), `"otlp_endpoint":"http://`+ln.Addr().String()) {
		t.Errorf("the start line does not name the OTLP endpoint:\n%s", p.stderr)
	}
}

// TestServeRefusesABadOTLPEndpoint: an endpoint that is not an http(s)
// URL is a usage error naming the flag.
func TestServeRefusesABadOTLPEndpoint(t *testing.T) {
	for _, bad := range []string{"127.0.0.1:4318", "grpc://x:4317", "http://", "http://x:4318?a=b"} {
		if _, err := parseServe([]string{"--otlp-endpoint", bad}, io.Discard); err == nil || !strings.Contains(err.Error(), "--otlp-endpoint") || exitStatus(err) != 2 {
			t.Errorf("--otlp-endpoint %q: %v, want a usage error naming the flag", bad, err)
		}
	}
	if got, err := otlpTracesURL("https://collector.example:4318/base/"); err != nil || got != "https://collector.example:4318/base/v1/traces" {
		t.Errorf("traces URL = %q, %v", got, err)
	}
}
