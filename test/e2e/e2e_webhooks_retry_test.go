package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/infra/webhook"
	"github.com/nats-ledger/ledger/node"
	"github.com/nats-ledger/ledger/subscriber"
)

// fakeClock is a webhook clock whose Sleep moves its time on at once:
// the schedule's waits are read on it, exactly, without waiting them.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return nil
}

// syncBuffer is a log destination that handlers may write concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// records returns the JSON log records whose message is one of msgs.
func (b *syncBuffer) records(t *testing.T, msgs ...string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	data := bytes.Clone(b.b.Bytes())
	b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		for _, m := range msgs {
			if rec["msg"] == m {
				out = append(out, rec)
			}
		}
	}
	return out
}

// TestE2EWebhookRetrySchedule measures the default retry schedule through
// a real receiver that always answers 500: with a fake clock, the
// attempts arrive after waits of 1, 2, 4, 8 and 16 s (each ±10 %), six
// attempts in all, then the event is a dead letter. Every failed attempt
// is logged with the webhook, the sequence, the status and the time of
// the next attempt, which is when the receiver saw it.
func TestE2EWebhookRetrySchedule(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	logs := &syncBuffer{}
	var mu sync.Mutex
	var arrivals []time.Time
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(subscriber.HeaderEventID) == "5" {
			mu.Lock()
			arrivals = append(arrivals, clock.Now())
			mu.Unlock()
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(rc.Close)
	cfg := webhook.Config{AllowPrivateNetworks: true, Clock: clock, DeliveryTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	l := e2eStartWith(t, node.Config{Webhooks: cfg})
	l.seedPayments(t, 0)
	w := l.createWebhook(t, map[string]any{"url": rc.URL, "events": []string{"TransferPosted"}})
	l.pay(t, "r", 1) // seq 5
	var dls []e2eDeadLetter
	e2eEventually(t, e2eOutcomeWait, "a dead letter", func() (bool, string) {
		dls = l.deadLetters(t, w.ID)
		return len(dls) == 1, fmt.Sprint(dls)
	})
	if dls[0].Sequence != 5 || dls[0].Attempts != 6 {
		t.Fatalf("dead letter %+v, want sequence 5 after 6 attempts", dls[0])
	}
	mu.Lock()
	got := append([]time.Time(nil), arrivals...)
	mu.Unlock()
	nominal := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}
	if len(got) != len(nominal)+1 {
		t.Fatalf("the receiver saw %d attempts, want %d", len(got), len(nominal)+1)
	}
	waits := make([]time.Duration, len(nominal))
	for i := range nominal {
		waits[i] = got[i+1].Sub(got[i])
	}
	t.Logf("waits between attempts (fake clock): %v; first attempt to last: %v", waits, got[len(got)-1].Sub(got[0]))
	for i, want := range nominal {
		wait := waits[i]
		if wait < want*9/10 || wait > want*11/10 {
			t.Errorf("wait before retry %d: %v, want %v ±10 %%", i+1, wait, want)
		}
		if d := webhook.DefaultRetry().Wait(i); d != want {
			t.Errorf("Retry.Wait(%d) = %v, want %v", i, d, want)
		}
	}
	recs := logs.records(t, "webhook delivery attempt failed", "webhook delivery attempt failed; no retry left")
	if len(recs) != len(got) {
		t.Fatalf("%d failed attempts logged, want %d: %v", len(recs), len(got), recs)
	}
	for i, rec := range recs {
		next := "none"
		if i+1 < len(got) {
			next = got[i+1].UTC().Format(time.RFC3339Nano)
		}
		if rec["webhook"] != w.ID || rec["sequence"] != "5" || rec["status"] != float64(500) || rec["attempt"] != float64(i+1) || rec["next_attempt"] != next {
			t.Errorf("log of attempt %d: %v, want next_attempt %s", i+1, rec, next)
		}
	}
}
