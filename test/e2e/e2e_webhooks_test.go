package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/webhook"
	"github.com/nats-ledger/ledger/internal/ledgertest/apidoc"
	"github.com/nats-ledger/ledger/node"
	"github.com/nats-ledger/ledger/subscriber"
	wh "github.com/nats-ledger/ledger/webhook"
)

// End-to-end tests of webhooks: a real ledger delivering to httptest
// receivers on 127.0.0.1, which is why these ledgers allow private
// networks (the default refuses them; TestE2EWebhookValidation checks it).

// e2eWebhookConfig retries fast, so that dead letters come quickly.
var e2eWebhookConfig = webhook.Config{
	AllowPrivateNetworks: true,
	DeliveryTimeout:      2 * time.Second,
	Retry:                webhook.Retry{MaxRetries: 2, InitialInterval: 10 * time.Millisecond, MaxInterval: 40 * time.Millisecond, Multiplier: 2},
}

// delivery is one request a receiver got.
type delivery struct {
	Seq       uint64
	Type      string
	WebhookID string
	Signature string
	Body      []byte
	At        time.Time
}

// receiver is an httptest endpoint that records deliveries and answers
// with status (200 unless set), after delay.
type receiver struct {
	srv    *httptest.Server
	status atomic.Int32
	delay  atomic.Int64 // nanoseconds
	mu     sync.Mutex
	got    []delivery
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.status.Store(http.StatusOK)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		seq, _ := strconv.ParseUint(req.Header.Get(subscriber.HeaderEventID), 10, 64)
		r.mu.Lock()
		r.got = append(r.got, delivery{Seq: seq, Type: req.Header.Get(subscriber.HeaderEventType), WebhookID: req.Header.Get(subscriber.HeaderWebhookID),
			Signature: req.Header.Get(subscriber.HeaderSignature), Body: body, At: time.Now()})
		r.mu.Unlock()
		if d := time.Duration(r.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *receiver) seqs() []uint64 {
	var out []uint64
	for _, d := range r.deliveries() {
		out = append(out, d.Seq)
	}
	return out
}

// e2eWebhook is a webhook as the API answers it.
type e2eWebhook struct {
	ID           string   `json:"id"`
	URL          string   `json:"url"`
	Events       []string `json:"events"`
	Account      string   `json:"account"`
	FromSequence uint64   `json:"from_sequence"`
	Secret       string   `json:"secret"`
}

type e2eDeadLetter struct {
	Sequence uint64          `json:"sequence"`
	Type     string          `json:"type"`
	Attempts int             `json:"attempts"`
	Error    string          `json:"error"`
	Event    json.RawMessage `json:"event"`
}

// createWebhook registers a webhook and checks the answer.
func (l *e2eLedger) createWebhook(t *testing.T, body map[string]any) e2eWebhook {
	t.Helper()
	r := l.do(t, http.MethodPost, "/v1/webhooks", body)
	w := e2eJSON[e2eWebhook](t, r, http.StatusCreated)
	if !strings.HasPrefix(w.Secret, "whsec_") || w.ID == "" || r.Header.Get("Location") != "/v1/webhooks/"+w.ID || w.FromSequence == 0 {
		t.Fatalf("create webhook: %s", r)
	}
	oaCheckE2E(t, "POST /v1/webhooks", r)
	return w
}

// deadLetters lists a webhook's dead letters.
func (l *e2eLedger) deadLetters(t *testing.T, id string) []e2eDeadLetter {
	t.Helper()
	r := l.do(t, http.MethodGet, "/v1/webhooks/"+id+"/dead-letters", nil)
	oaCheckE2E(t, "GET /v1/webhooks/{id}/dead-letters", r)
	return e2ePageOf[e2eDeadLetter](t, r).Data
}

// oaCheckE2E checks a live answer against the OpenAPI document.
func oaCheckE2E(t *testing.T, op string, r e2eResp) {
	t.Helper()
	rec := httptest.NewRecorder()
	for k, v := range r.Header {
		rec.Header()[k] = v
	}
	rec.WriteHeader(r.Status)
	rec.Body.Write(r.Body)
	apidoc.CheckDocumented(t, oaLoadDoc(t), op, rec, "")
}

// checkSigned verifies a delivery's signature with the webhook's secret
// and checks that its body is the event its headers name.
func checkSigned(t *testing.T, d delivery, secret, webhookID string) {
	t.Helper()
	if err := subscriber.VerifySignature(secret, d.Signature, d.Body, time.Now(), subscriber.DefaultSignatureTolerance); err != nil {
		t.Fatalf("delivery of %d: %v (header %q)", d.Seq, err, d.Signature)
	}
	tampered := append([]byte(nil), d.Body...)
	tampered[len(tampered)/2] ^= 1
	if subscriber.VerifySignature(secret, d.Signature, tampered, time.Now(), subscriber.DefaultSignatureTolerance) == nil {
		t.Fatalf("delivery of %d: a tampered body verifies", d.Seq)
	}
	if subscriber.VerifySignature("whsec_other", d.Signature, d.Body, time.Now(), subscriber.DefaultSignatureTolerance) == nil {
		t.Fatalf("delivery of %d: another secret verifies", d.Seq)
	}
	ev, err := domain.DecodeEvent(d.Body)
	if err != nil || ev.Seq != d.Seq || string(ev.Type) != d.Type || d.WebhookID != webhookID {
		t.Fatalf("delivery %d %s to %s: body %s (%v)", d.Seq, d.Type, d.WebhookID, d.Body, err)
	}
}

// TestE2EWebhookDelivers delivers every matching event once, in ledger
// order, signed; filters by type and account; and a stuck endpoint does
// not delay the others.
func TestE2EWebhookDelivers(t *testing.T) {
	t.Parallel()
	l := e2eStartWith(t, node.Config{Webhooks: e2eWebhookConfig})
	l.seedPayments(t, 1) // seq 1-5, before the webhooks
	all, bobs, stuck := newReceiver(t), newReceiver(t), newReceiver(t)
	stuck.delay.Store(int64(time.Minute)) // cut short by the delivery timeout
	types := []string{"TransferPosted", "TransferRejected"}
	wAll := l.createWebhook(t, map[string]any{"url": all.srv.URL + "/hook?x=1", "events": types})
	wBob := l.createWebhook(t, map[string]any{"url": bobs.srv.URL, "events": []string{"TransferPosted", "AccountOpened"}, "account": "bob"})
	wStuck := l.createWebhook(t, map[string]any{"url": stuck.srv.URL, "events": types})
	if wAll.FromSequence != 6 {
		t.Errorf("from_sequence %d, want 6 (after the 5 events before it)", wAll.FromSequence)
	}

	began := time.Now()
	l.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "carol", "asset": "USD"})
	l.post(t, map[string]any{"id": "a1", "from": "alice", "to": "bob", "amount": "1.00"})
	l.post(t, map[string]any{"id": "a2", "from": "alice", "to": "carol", "amount": "2.00"})
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "big", "from": "alice", "to": "bob", "amount": "1000"}),
		http.StatusUnprocessableEntity, "insufficient_funds", "")
	l.post(t, map[string]any{"id": "a3", "from": "bob", "to": "alice", "amount": "0.50"})
	j := l.journal(t)
	want := func(keep func(*domain.Event) bool) []uint64 {
		var out []uint64
		for _, ev := range j {
			if ev.Seq >= 6 && keep(ev) {
				out = append(out, ev.Seq)
			}
		}
		return out
	}
	wantAll := want(func(ev *domain.Event) bool { return slices.Contains(types, string(ev.Type)) })
	wantBob := want(func(ev *domain.Event) bool {
		return ev.Type == domain.EventTransferPosted && ev.Involves("bob")
	})
	for _, c := range []struct {
		r    *receiver
		w    e2eWebhook
		want []uint64
	}{{all, wAll, wantAll}, {bobs, wBob, wantBob}} {
		e2eEventually(t, e2eOutcomeWait, "deliveries", func() (bool, string) {
			return len(c.r.seqs()) >= len(c.want), fmt.Sprint(c.r.seqs())
		})
		if got := c.r.seqs(); !slices.Equal(got, c.want) {
			t.Fatalf("webhook %s got %v, want %v", c.w.ID, got, c.want)
		}
		for _, d := range c.r.deliveries() {
			checkSigned(t, d, c.w.Secret, c.w.ID)
		}
	}
	if d := time.Since(began); d > e2eWebhookConfig.DeliveryTimeout {
		t.Errorf("deliveries took %v: the stuck endpoint delayed the others", d)
	}
	if len(wantAll) != 4 || len(wantBob) != 2 {
		t.Fatalf("the scenario changed: %v %v", wantAll, wantBob)
	}
	if got := stuck.seqs(); len(got) == 0 || got[0] != wantAll[0] {
		t.Errorf("the stuck endpoint got %v, want a first attempt at %d", got, wantAll[0])
	}

	// Listed without secrets, oldest first.
	r := l.do(t, http.MethodGet, "/v1/webhooks", nil)
	oaCheckE2E(t, "GET /v1/webhooks", r)
	list := e2eJSON[struct{ Data []e2eWebhook }](t, r, http.StatusOK).Data
	if len(list) != 3 || list[0].ID != wAll.ID || list[1].ID != wBob.ID || list[1].Account != "bob" || strings.Contains(string(r.Body), "whsec_") {
		t.Fatalf("GET /v1/webhooks: %s", r)
	}
	r = l.do(t, http.MethodGet, "/v1/webhooks/"+wBob.ID, nil)
	oaCheckE2E(t, "GET /v1/webhooks/{id}", r)
	if g := e2eJSON[e2eWebhook](t, r, http.StatusOK); g.ID != wBob.ID || g.Secret != "" || g.URL != bobs.srv.URL {
		t.Fatalf("GET /v1/webhooks/%s: %s", wBob.ID, r)
	}
	r = l.do(t, http.MethodDelete, "/v1/webhooks/"+wStuck.ID, nil)
	oaCheckE2E(t, "DELETE /v1/webhooks/{id}", r)
}

// TestE2EWebhookDeadLetters fails a receiver: each event is attempted
// 1 + MaxRetries times, in order, then lands in the dead-letter list;
// redelivery works once the receiver recovers, and counts a failure while
// it does not.
func TestE2EWebhookDeadLetters(t *testing.T) {
	t.Parallel()
	l := e2eStartWith(t, node.Config{Webhooks: e2eWebhookConfig})
	l.seedPayments(t, 0)
	rc := newReceiver(t)
	rc.status.Store(http.StatusInternalServerError)
	w := l.createWebhook(t, map[string]any{"url": rc.srv.URL, "events": []string{"TransferPosted"}})
	l.pay(t, "d", 2) // seq 5, 6
	attempts := 1 + e2eWebhookConfig.Retry.MaxRetries
	var dls []e2eDeadLetter
	e2eEventually(t, e2eOutcomeWait, "two dead letters", func() (bool, string) {
		dls = l.deadLetters(t, w.ID)
		return len(dls) == 2, fmt.Sprint(dls)
	})
	for i, dl := range dls {
		var ev domain.Event
		if err := json.Unmarshal(dl.Event, &ev); err != nil || dl.Sequence != uint64(5+i) || ev.Seq != dl.Sequence || dl.Type != "TransferPosted" ||
			dl.Attempts != attempts || !strings.Contains(dl.Error, "500") {
			t.Fatalf("dead letter %d: %+v (%v)", i, dl, err)
		}
	}
	wantSeqs := []uint64{5, 5, 5, 6, 6, 6}
	if got := rc.seqs(); !slices.Equal(got, wantSeqs) {
		t.Fatalf("the receiver saw attempts %v, want %v", got, wantSeqs)
	}
	for _, d := range rc.deliveries() {
		checkSigned(t, d, w.Secret, w.ID)
	}
	// Paging.
	r := l.do(t, http.MethodGet, "/v1/webhooks/"+w.ID+"/dead-letters?limit=1", nil)
	page := e2ePageOf[e2eDeadLetter](t, r)
	if len(page.Data) != 1 || page.Data[0].Sequence != 5 || page.NextCursor == nil {
		t.Fatalf("first page: %s", r)
	}
	page = e2ePageOf[e2eDeadLetter](t, l.do(t, http.MethodGet, "/v1/webhooks/"+w.ID+"/dead-letters?limit=1&cursor="+*page.NextCursor, nil))
	if len(page.Data) != 1 || page.Data[0].Sequence != 6 || page.NextCursor != nil {
		t.Fatalf("second page: %+v", page)
	}

	// Still failing: 502, and the attempt counts.
	redeliver := "/v1/webhooks/" + w.ID + "/dead-letters/5/redeliver"
	e2eCheckProblem(t, l.do(t, http.MethodPost, redeliver, nil), http.StatusBadGateway, "webhook_delivery_failed", "")
	if dls = l.deadLetters(t, w.ID); dls[0].Attempts != attempts+1 {
		t.Fatalf("after a failed redelivery: %+v", dls[0])
	}
	// Recovered: delivered, and gone from the list.
	rc.status.Store(http.StatusNoContent)
	r = l.do(t, http.MethodPost, redeliver, nil)
	oaCheckE2E(t, "POST /v1/webhooks/{id}/dead-letters/{seq}/redeliver", r)
	if got := e2eJSON[wh.Redelivery](t, r, http.StatusOK); got.Sequence != 5 || got.Status != "delivered" || got.Attempts != attempts+2 {
		t.Fatalf("redeliver: %s", r)
	}
	last := rc.deliveries()[len(rc.deliveries())-1]
	if last.Seq != 5 {
		t.Fatalf("the redelivery delivered %d", last.Seq)
	}
	checkSigned(t, last, w.Secret, w.ID)
	if dls = l.deadLetters(t, w.ID); len(dls) != 1 || dls[0].Sequence != 6 {
		t.Fatalf("after the redelivery: %+v", dls)
	}
	e2eCheckProblem(t, l.do(t, http.MethodPost, redeliver, nil), http.StatusNotFound, "dead_letter_not_found", "")
	// New events flow again.
	l.pay(t, "e", 1) // seq 7
	e2eEventually(t, e2eOutcomeWait, "the next event", func() (bool, string) {
		s := rc.seqs()
		return s[len(s)-1] == 7, fmt.Sprint(s)
	})

	// Deleted: its routes answer 404.
	l.do(t, http.MethodDelete, "/v1/webhooks/"+w.ID, nil)
	for _, path := range []string{"/v1/webhooks/" + w.ID, "/v1/webhooks/" + w.ID + "/dead-letters"} {
		e2eCheckProblem(t, l.do(t, http.MethodGet, path, nil), http.StatusNotFound, "webhook_not_found", "")
	}
	e2eCheckProblem(t, l.do(t, http.MethodDelete, "/v1/webhooks/"+w.ID, nil), http.StatusNotFound, "webhook_not_found", "")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/webhooks/"+w.ID+"/dead-letters/6/redeliver", nil), http.StatusNotFound, "webhook_not_found", "")
}

// TestE2EWebhookValidation refuses malformed webhooks, non-admins, more
// than the limit, and (by default) internal addresses.
func TestE2EWebhookValidation(t *testing.T) {
	t.Parallel()
	l := e2eStartWith(t, node.Config{Webhooks: webhook.Config{MaxWebhooks: 1}})
	ok := map[string]any{"url": "https://hooks.example.com/ledger", "events": []string{"TransferPosted"}}
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"no url":         {map[string]any{"events": []string{"TransferPosted"}}, ""},
		"no events":      {map[string]any{"url": "https://example.com"}, ""},
		"ftp":            {map[string]any{"url": "ftp://example.com/x", "events": []string{"TransferPosted"}}, "url"},
		"relative":       {map[string]any{"url": "/hook", "events": []string{"TransferPosted"}}, "url"},
		"credentials":    {map[string]any{"url": "https://u:p@example.com/", "events": []string{"TransferPosted"}}, "url"},
		"too long":       {map[string]any{"url": "https://example.com/" + strings.Repeat("a", 2048), "events": []string{"TransferPosted"}}, "url"},
		"unknown event":  {map[string]any{"url": "https://example.com", "events": []string{"Nope"}}, "events"},
		"repeated event": {map[string]any{"url": "https://example.com", "events": []string{"TransferPosted", "TransferPosted"}}, "events"},
		"bad account":    {map[string]any{"url": "https://example.com", "events": []string{"TransferPosted"}, "account": "a b"}, "account"},
		"loopback":       {map[string]any{"url": "http://127.0.0.1:9/x", "events": []string{"TransferPosted"}}, "url"},
		"localhost":      {map[string]any{"url": "http://localhost:9/x", "events": []string{"TransferPosted"}}, "url"},
		"metadata":       {map[string]any{"url": "http://169.254.169.254/latest", "events": []string{"TransferPosted"}}, "url"},
		"private v6":     {map[string]any{"url": "http://[fd00::1]/x", "events": []string{"TransferPosted"}}, "url"},
		"unknown field":  {map[string]any{"url": "https://example.com", "events": []string{"TransferPosted"}, "secret": "x"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			p := e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/webhooks", c.body), http.StatusBadRequest, "validation_failed", "")
			if c.field != "" && p.Field != c.field {
				t.Errorf("field %q, want %q: %+v", p.Field, c.field, p)
			}
		})
	}
	user := l.as(l.tokenFor(t, "alice", time.Hour, userScopes...))
	e2eCheckProblem(t, user.do(t, http.MethodPost, "/v1/webhooks", ok), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, user.do(t, http.MethodGet, "/v1/webhooks", nil), http.StatusForbidden, "forbidden", "")
	l.createWebhook(t, ok)
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/webhooks", ok), http.StatusConflict, "webhook_limit_reached", "")
	e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/webhooks/wh_nope", nil), http.StatusNotFound, "webhook_not_found", "")
	e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/webhooks/a%20b", nil), http.StatusBadRequest, "validation_failed", "id")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/webhooks/wh_nope/dead-letters/x/redeliver", nil), http.StatusBadRequest, "validation_failed", "seq")
}
