package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/projections"
)

// lagRead is a read model whose applied sequence the test moves by hand.
type lagRead struct {
	oaStubRead
	mu      sync.Mutex
	applied uint64
	moved   chan struct{} // closed and replaced when applied moves
	waits   []uint64      // the sequences WaitSeq was asked for
}

func newLagRead() *lagRead { return &lagRead{moved: make(chan struct{})} }

func (r *lagRead) apply(seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = seq
	close(r.moved)
	r.moved = make(chan struct{})
}

func (r *lagRead) WaitSeq(ctx context.Context, seq uint64) error {
	for {
		r.mu.Lock()
		r.waits = append(r.waits, seq)
		applied, moved := r.applied, r.moved
		r.mu.Unlock()
		if applied >= seq {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *lagRead) Applied() projections.Checkpoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	return projections.Checkpoint{Seq: r.applied}
}

func (r *lagRead) waited() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint64(nil), r.waits...)
}

// postedAt is a submitter whose every transfer posts at the given sequence.
func postedAt(seq uint64) *oaStubSubmit {
	ev := oaStubEvent()
	ev.Seq = seq
	return &oaStubSubmit{results: []commands.Result{{Outcome: commands.OutcomePosted, Seq: seq, Event: ev}}}
}

const lagTransfer = `{"id":"t-1","from":"alice","to":"bob","amount":"25.50"}`

// A 201 does not wait for the read model; a read that follows it does, and
// answers once the read model has applied the write.
func TestReadsWaitForAcknowledgedWrites(t *testing.T) {
	read := newLagRead()
	h := oaNew(api.Config{ReadWait: time.Minute}, postedAt(7), read)
	auth := map[string]string{"Authorization": "Bearer " + oaToken}

	if rec := oaDo(t, h, http.MethodGet, "/v1/accounts/alice", "", auth); rec.Code != http.StatusOK {
		t.Fatalf("read before any write: %d %s", rec.Code, rec.Body)
	}
	if w := read.waited(); len(w) != 0 {
		t.Fatalf("a read before any write waited for %v", w)
	}
	if rec := oaDo(t, h, http.MethodPost, "/v1/transfers", lagTransfer, auth); rec.Code != http.StatusCreated {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	if w := read.waited(); len(w) != 0 {
		t.Fatalf("the 201 waited for the read model: %v", w)
	}

	done := make(chan int)
	go func() {
		done <- oaDo(t, h, http.MethodGet, "/v1/transfers/t-1", "", auth).Code
	}()
	read.apply(6)
	select {
	case code := <-done:
		t.Fatalf("the read answered %d with the read model at 6 of 7", code)
	case <-time.After(50 * time.Millisecond): // still waiting, as it must
	}
	read.apply(7)
	if code := <-done; code != http.StatusOK {
		t.Fatalf("read after the read model caught up: %d", code)
	}
}

// A read the read model cannot serve within ReadWait answers 503
// unavailable rather than an answer that misses an acknowledged write.
func TestReadBehindAcknowledgedWriteIs503(t *testing.T) {
	read := newLagRead()
	h := oaNew(api.Config{ReadWait: time.Millisecond}, postedAt(7), read)
	auth := map[string]string{"Authorization": "Bearer " + oaToken}
	if rec := oaDo(t, h, http.MethodPost, "/v1/transfers", lagTransfer, auth); rec.Code != http.StatusCreated {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	for _, path := range []string{"/v1/accounts/alice", "/v1/accounts/alice/entries", "/v1/accounts/alice/balance?as_of=3",
		"/v1/transfers", "/v1/transfers/t-1"} {
		rec := oaDo(t, h, http.MethodGet, path, "", auth)
		if rec.Code != http.StatusServiceUnavailable || problemCode(t, rec) != string(api.CodeUnavailable) {
			t.Errorf("GET %s with the read model behind: %d %s", path, rec.Code, rec.Body)
		}
	}
}

// Writes wait while the journal, counting the write, would be more than
// MaxReadLag events ahead of the read model, and are refused with 503
// (storing nothing) when it does not catch up in time.
func TestWritesWaitForALaggingReadModel(t *testing.T) {
	read := newLagRead()
	sub := postedAt(100)
	h := oaNew(api.Config{MaxReadLag: 10, SyncTimeout: 20 * time.Millisecond}, sub, read)
	auth := map[string]string{"Authorization": "Bearer " + oaToken}
	if rec := oaDo(t, h, http.MethodPost, "/v1/transfers", lagTransfer, auth); rec.Code != http.StatusCreated {
		t.Fatalf("first post: %d %s", rec.Code, rec.Body)
	}
	// Acknowledged 100, applied 0: past the bound of 10.
	calls := sub.calls
	for _, c := range []struct{ path, body string }{
		{"/v1/transfers", lagTransfer},
		{"/v1/transfers/batch", `{"transfers":[` + lagTransfer + `]}`},
	} {
		rec := oaDo(t, h, http.MethodPost, c.path, c.body, auth)
		if rec.Code != http.StatusServiceUnavailable || problemCode(t, rec) != string(api.CodeUnavailable) {
			t.Errorf("POST %s with the read model 100 behind: %d %s", c.path, rec.Code, rec.Body)
		}
	}
	if w := read.waited(); len(w) == 0 || w[len(w)-1] != 91 {
		t.Fatalf("writes waited for %v, want the read model at 100+1-10", w)
	}
	if sub.calls != calls {
		t.Fatalf("a throttled write reached the submitter (%d calls, want %d)", sub.calls, calls)
	}
	read.apply(91)
	if rec := oaDo(t, h, http.MethodPost, "/v1/transfers", lagTransfer, auth); rec.Code != http.StatusCreated {
		t.Fatalf("post with the read model within the bound: %d %s", rec.Code, rec.Body)
	}
}

// problemCode returns the code of a problem answer.
func problemCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var p struct{ Code string }
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("not a problem: %s", rec.Body)
	}
	return p.Code
}

// heldSubmit posts every transfer at seq, once the test lets it go.
type heldSubmit struct {
	oaStubSubmit
	entered chan struct{}
	release chan struct{}
}

func (h *heldSubmit) Submit(ctx context.Context, items []commands.Item, wait bool) ([]commands.Result, error) {
	h.entered <- struct{}{}
	<-h.release
	return h.oaStubSubmit.Submit(ctx, items, wait)
}

// Writes in flight count toward the bound: a write waits while others not
// yet answered would put the journal too far ahead, however few have been
// acknowledged so far.
func TestWritesInFlightCountTowardTheLagBound(t *testing.T) {
	read := newLagRead()
	sub := &heldSubmit{oaStubSubmit: *postedAt(1000), entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := oaNew(api.Config{MaxReadLag: 1000, SyncTimeout: 50 * time.Millisecond}, sub, read)
	auth := map[string]string{"Authorization": "Bearer " + oaToken}

	var batch strings.Builder
	batch.WriteString(`{"transfers":[`)
	for i := range 1000 {
		if i > 0 {
			batch.WriteString(",")
		}
		fmt.Fprintf(&batch, `{"id":"b-%d","from":"alice","to":"bob","amount":"1"}`, i)
	}
	batch.WriteString("]}")
	done := make(chan int)
	go func() { done <- oaDo(t, h, http.MethodPost, "/v1/transfers/batch", batch.String(), auth).Code }()
	<-sub.entered // 1,000 items in flight, none acknowledged, the read model at 0

	rec := oaDo(t, h, http.MethodPost, "/v1/transfers", lagTransfer, auth)
	if rec.Code != http.StatusServiceUnavailable || problemCode(t, rec) != string(api.CodeUnavailable) {
		t.Fatalf("a write past the bound with 1,000 items in flight: %d %s", rec.Code, rec.Body)
	}
	close(sub.release)
	if code := <-done; code != http.StatusOK {
		t.Fatalf("batch: %d", code)
	}
	// Acknowledged 1000, nothing in flight: one more needs the read model at 1.
	go func() { <-sub.entered }()
	read.apply(1)
	if rec := oaDo(t, h, http.MethodPost, "/v1/transfers", lagTransfer, auth); rec.Code != http.StatusCreated {
		t.Fatalf("a write within the bound: %d %s", rec.Code, rec.Body)
	}
}

// With JournalSeq the bound counts the journal's own head, and with
// Undecided the items stored without waiting that are not journaled yet:
// writes that were answered 202 hold later writes back too.
func TestWritesWaitForTheJournalHead(t *testing.T) {
	hundred := func() uint64 { return 100 }
	for name, cfg := range map[string]api.Config{
		"journal head": {JournalSeq: hundred},
		"undecided":    {Undecided: hundred},
	} {
		t.Run(name, func(t *testing.T) {
			read := newLagRead()
			sub := postedAt(1)
			cfg.MaxReadLag, cfg.SyncTimeout = 10, 20*time.Millisecond
			h := oaNew(cfg, sub, read)
			auth := map[string]string{"Authorization": "Bearer " + oaToken}
			rec := oaDo(t, h, http.MethodPost, "/v1/transfers", lagTransfer, auth)
			if rec.Code != http.StatusServiceUnavailable || sub.calls != 0 {
				t.Fatalf("a write with 100 events ahead of the read model: %d %s, %d submits", rec.Code, rec.Body, sub.calls)
			}
			read.apply(91)
			if rec := oaDo(t, h, http.MethodPost, "/v1/transfers", lagTransfer, auth); rec.Code != http.StatusCreated {
				t.Fatalf("a write within the bound: %d %s", rec.Code, rec.Body)
			}
		})
	}
}
