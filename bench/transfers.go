package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
)

// Transfer amounts are 0.01 to 0.99 BENCH: against a funding of a billion
// each, no transfer can fail for funds within the bench's bounds.
const (
	amountCentsMax = 99
	// problemBytesMax bounds reading an error body.
	problemBytesMax = 64 << 10
)

// transferGen builds and sends one worker's transfers. Bodies are appended
// into a buffer sized from the last one, and the constant parts of every
// body are encoded once.
type transferGen struct {
	hc       *http.Client
	url      string      // POST /v1/transfers or /v1/transfers/batch
	header   http.Header // shared, read-only
	batch    int
	accounts int
	rng      *rand.Rand

	idPrefix []byte // `{"id":"bench-<run>-<worker>-`
	tail     []byte // `,"asset":"BENCH","reference":"bench-<run>"}`
	idText   string // `bench-<run>-<worker>-`
	seq      int64  // next transfer number of this worker
	sizeHint int
}

func newTransferGen(hc *http.Client, base, token, runID string, worker int, cfg Config) *transferGen {
	h := http.Header{
		"Authorization": {"Bearer " + token},
		"Content-Type":  {"application/json"},
	}
	if cfg.Async {
		h["Prefer"] = []string{"respond-async"}
	}
	url := base + "/v1/transfers"
	if cfg.Batch > 1 {
		url += "/batch"
	}
	idText := "bench-" + runID + "-" + strconv.Itoa(worker) + "-"
	return &transferGen{
		hc: hc, url: url, header: h, batch: cfg.Batch, accounts: cfg.Accounts,
		rng:      rand.New(rand.NewPCG(rand.Uint64(), uint64(worker))),
		idPrefix: []byte(`{"id":"` + idText),
		tail:     []byte(`","asset":"` + benchAsset + `","reference":"` + runReference(runID) + `"}`),
		idText:   idText,
	}
}

// runReference tags every transfer of a run, so that the final check can
// list the run's rejections.
func runReference(runID string) string { return "bench-run-" + runID }

// appendTransfer appends one transfer object with the next id, two distinct
// random accounts and a random amount.
func (g *transferGen) appendTransfer(b []byte) []byte {
	from := g.rng.IntN(g.accounts)
	to := g.rng.IntN(g.accounts - 1)
	if to >= from {
		to++
	}
	cents := 1 + g.rng.IntN(amountCentsMax)
	b = append(b, g.idPrefix...)
	b = strconv.AppendInt(b, g.seq, 10)
	g.seq++
	b = append(b, `","from":"`+accountPrefix...)
	b = strconv.AppendInt(b, int64(from), 10)
	b = append(b, `","to":"`+accountPrefix...)
	b = strconv.AppendInt(b, int64(to), 10)
	b = append(b, `","amount":"0.`...)
	if cents < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(cents), 10)
	return append(b, g.tail...)
}

func (g *transferGen) id(seq int64) string { return g.idText + strconv.FormatInt(seq, 10) }

// body returns the next request body and the number of its first transfer.
func (g *transferGen) body() ([]byte, int64) {
	first := g.seq
	// A new buffer each time: the transport may still read a body after
	// Do returns (an early answer), so a buffer is never reused.
	b := make([]byte, 0, g.sizeHint)
	if g.batch == 1 {
		b = g.appendTransfer(b)
	} else {
		b = append(b, `{"transfers":[`...)
		for i := range g.batch {
			if i > 0 {
				b = append(b, ',')
			}
			b = g.appendTransfer(b)
		}
		b = append(b, `],"atomic":false}`...)
	}
	g.sizeHint = len(b) + len(b)/8
	return b, first
}

// step sends one request and counts its items.
func (g *transferGen) step(ctx context.Context, t *tally) int64 {
	body, first := g.body()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		panic(err) // the URL was parsed when the run started
	}
	req.Header = g.header
	resp, err := g.hc.Do(req)
	if err != nil {
		g.unknown(t, first, int64(g.batch), "transport_"+transportKind(err))
		return 0
	}
	defer resp.Body.Close()
	if g.batch == 1 {
		return g.single(t, resp, first)
	}
	return g.batchResults(t, resp, first)
}

// unknown records items whose outcome the client never learned.
func (g *transferGen) unknown(t *tally, first, n int64, code string) {
	t.fail(code, n)
	t.unanswered++
	for s := first; s < first+n; s++ {
		t.keep(&t.unknownIDs, g.id(s))
	}
}

func (g *transferGen) single(t *tally, resp *http.Response, seq int64) int64 {
	switch resp.StatusCode {
	case http.StatusCreated:
		_, _ = io.Copy(io.Discard, resp.Body) // to reuse the connection
		t.posted++
		return 1
	case http.StatusAccepted:
		_, _ = io.Copy(io.Discard, resp.Body)
		t.accepted++
		t.lastAccepted = g.id(seq)
		return 1
	}
	code := problemCode(resp)
	if resp.StatusCode >= http.StatusInternalServerError {
		// Maybe stored, maybe not: resolved by id at the end.
		g.unknown(t, seq, 1, code)
		return 0
	}
	t.fail(code, 1)
	t.keep(&t.problemIDs, g.id(seq))
	return 0
}

// batchResult is one item of a batch answer, read defensively: posted
// when it has a transfer whose status is posted, accepted when its status
// is 202 (or the transfer is pending), else failed with its problem's code.
type batchResult struct {
	Status   int `json:"status"`
	Transfer *struct {
		Status string `json:"status"`
	} `json:"transfer"`
	Problem *problemBody `json:"problem"`
}

func (g *transferGen) batchResults(t *tally, resp *http.Response, first int64) int64 {
	n := int64(g.batch)
	if resp.StatusCode >= http.StatusMultipleChoices {
		code := problemCode(resp)
		if resp.StatusCode >= http.StatusInternalServerError {
			g.unknown(t, first, n, code)
		} else {
			// A refused batch is refused whole, before any item is
			// submitted: nothing to look up at the end.
			t.fail(code, n)
		}
		return 0
	}
	var out struct {
		Results []batchResult `json:"results"`
	}
	err := json.NewDecoder(io.LimitReader(resp.Body, responseBytesMax)).Decode(&out)
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode == http.StatusAccepted && (err != nil || len(out.Results) == 0) {
		// An asynchronous batch answered as a whole.
		t.accepted += n
		t.lastAccepted = g.id(first + n - 1)
		return n
	}
	if err != nil {
		g.unknown(t, first, n, "malformed_response")
		return 0
	}
	var ok int64
	for i := range n {
		seq := first + i
		if i >= int64(len(out.Results)) {
			g.unknown(t, seq, 1, "missing_result")
			continue
		}
		r := out.Results[i]
		switch {
		case r.Transfer != nil && r.Transfer.Status == "posted":
			t.posted++
			ok++
		case r.Status == http.StatusAccepted || (r.Transfer != nil && r.Transfer.Status == "pending"):
			t.accepted++
			t.lastAccepted = g.id(seq)
			ok++
		case r.Problem != nil && r.Problem.Code != "":
			t.fail(r.Problem.Code, 1)
			t.keep(&t.problemIDs, g.id(seq))
		case r.Status >= http.StatusInternalServerError:
			g.unknown(t, seq, 1, "http_"+strconv.Itoa(r.Status))
		default:
			t.fail("unrecognised_result", 1)
			t.keep(&t.problemIDs, g.id(seq))
		}
	}
	return ok
}

// problemCode reads an error answer's problem code, or names its status.
func problemCode(resp *http.Response) string {
	var p problemBody
	if err := json.NewDecoder(io.LimitReader(resp.Body, problemBytesMax)).Decode(&p); err != nil || p.Code == "" {
		return "http_" + strconv.Itoa(resp.StatusCode)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, problemBytesMax))
	return p.Code
}

// transportKind names a failed request's cause for the error counts.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection_reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no_local_port"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return "other"
}
