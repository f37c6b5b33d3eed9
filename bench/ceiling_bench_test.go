package bench

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// discardWriter is a reusable http.ResponseWriter that keeps only the
// status, so that the benchmark measures the handler, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// BenchmarkCeilingTransfer is the API ceiling's cost per transfer without
// the network: Echo's routing and middleware, JWT verification (cached),
// strict decoding and validation, the in-memory decision and the answer's
// encoding, called as net/http would call the handler. Run with
// -benchmem: allocations per request are most of what the front costs
// beside the syscalls.
func BenchmarkCeilingTransfer(b *testing.B) {
	h, token, err := ceilingHandler(DefaultAccounts)
	if err != nil {
		b.Fatal(err)
	}
	g := newTransferGen(nil, "", token, "b", 0, Config{Batch: 1, Accounts: DefaultAccounts})
	w := &discardWriter{h: http.Header{}}
	var body []byte
	rd := bytes.NewReader(nil)
	b.ReportAllocs()
	for b.Loop() {
		body = g.appendTransfer(body[:0])
		rd.Reset(body)
		req, err := http.NewRequest(http.MethodPost, "http://ledger/v1/transfers", io.NopCloser(rd))
		if err != nil {
			b.Fatal(err)
		}
		req.ContentLength = int64(len(body))
		req.Header = g.header
		clear(w.h)
		h.ServeHTTP(w, req)
		if w.status != http.StatusCreated {
			b.Fatalf("status %d for %s", w.status, strings.TrimSpace(string(body)))
		}
	}
}
