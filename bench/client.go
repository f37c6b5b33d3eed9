package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client limits.
const (
	// requestTimeout bounds one request, longer than the ledger's own
	// write timeout (30 s) so that the server answers first.
	requestTimeout = 60 * time.Second
	// responseBytesMax bounds a response body read into memory; a batch
	// of 1,000 posted transfers answers about 600 KB.
	responseBytesMax = 8 << 20
	// idleConnTimeout closes connections a finished phase left idle.
	idleConnTimeout = 90 * time.Second
)

// newHTTPClient returns the one client every phase shares: keep-alives on,
// an idle pool as large as the workers so that no request pays for a new
// connection, and no compression to keep the generator cheap.
func newHTTPClient(concurrency int) *http.Client {
	t := &http.Transport{
		Proxy:               nil, // loopback benchmarks never go through a proxy
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     idleConnTimeout,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: t, Timeout: requestTimeout}
}

// api calls the ledger's REST API with an admin token.
type api struct {
	base      string
	token     string
	hc        *http.Client
	readyWait time.Duration // bounds waitReady
}

// problemBody is the part of an RFC 9457 problem the bench reads.
type problemBody struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// StatusError is a response the bench did not expect.
type StatusError struct {
	Method, Path string
	Status       int
	Code, Detail string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s %s", e.Method, e.Path, e.Status, e.Code, e.Detail)
}

// do sends body (nil: none) and decodes a 2xx response with one of the
// wanted statuses into out (nil: discard). Any other status is a
// *StatusError with the problem's code.
func (a *api) do(ctx context.Context, method, path string, body []byte, out any, want ...int) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, responseBytesMax))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	for _, w := range want {
		if resp.StatusCode != w {
			continue
		}
		if out != nil && w < http.StatusMultipleChoices {
			if err := json.Unmarshal(raw, out); err != nil {
				return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
			}
		}
		return resp.StatusCode, nil
	}
	var p problemBody
	_ = json.Unmarshal(raw, &p)
	return resp.StatusCode, &StatusError{Method: method, Path: path, Status: resp.StatusCode, Code: p.Code, Detail: p.Detail}
}

// waitReady polls /readyz and GET /v1/status, backing off while it gets
// no answer, until the ledger is up and its read models have applied the
// whole journal (/readyz alone allows a lag up to the admission bound),
// for at most a.readyWait.
func (a *api) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.readyWait)
	defer cancel()
	var retry backoff
	var last error // the last answer (or failure) before the wait ran out
	for attempts := 1; ; attempts++ {
		err := a.caughtUp(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() == nil || last == nil {
			last = err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("ledger at %s not ready after %s (%d attempts): %w", a.base, a.readyWait, attempts, last)
		}
		retry.failed(ctx, time.Time{})
	}
}

// errBehind is caughtUp's answer while the read model is behind.
var errBehind = errors.New("the read model has not applied the whole journal")

// caughtUp returns nil when /readyz answers 200 and the read model has
// applied the journal up to its last sequence.
func (a *api) caughtUp(ctx context.Context) error {
	if _, err := a.do(ctx, http.MethodGet, "/readyz", nil, nil, http.StatusOK); err != nil {
		return err
	}
	var b statusBody
	if _, err := a.do(ctx, http.MethodGet, "/v1/status", nil, &b, http.StatusOK); err != nil {
		return err
	}
	if b.ReadModel.Sequence < b.Journal.Sequence {
		return fmt.Errorf("%w: at %d of %d", errBehind, b.ReadModel.Sequence, b.Journal.Sequence)
	}
	return nil
}
