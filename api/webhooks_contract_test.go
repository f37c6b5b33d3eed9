package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/apidoc"
	"github.com/nats-ledger/ledger/webhook"
)

// The contract of the event and webhook routes with stub backends: every
// answer's status is documented for its operation, success bodies match
// their schemas, and errors carry the codes the document names.

type stubWebhooks struct{ err error }

var stubWebhook = webhook.Webhook{ID: "wh_1", URL: "https://example.com/h", Events: []domain.EventType{domain.EventTransferPosted},
	Account: "alice", FromSequence: 3, CreatedAt: oaStubTime}

func (s stubWebhooks) Create(context.Context, webhook.Spec) (webhook.Created, error) {
	return webhook.Created{Webhook: stubWebhook, Secret: "whsec_" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, s.err
}
func (s stubWebhooks) List(context.Context) ([]webhook.Webhook, error) {
	return []webhook.Webhook{stubWebhook}, s.err
}
func (s stubWebhooks) Get(context.Context, string) (webhook.Webhook, error) {
	return stubWebhook, s.err
}
func (s stubWebhooks) Delete(context.Context, string) (webhook.Webhook, error) {
	return stubWebhook, s.err
}
func (s stubWebhooks) DeadLetters(context.Context, string, uint64, int) ([]webhook.DeadLetter, bool, error) {
	return []webhook.DeadLetter{{Sequence: 4, Type: domain.EventTransferPosted, Attempts: 6, Error: "delivery failed: the endpoint answered 500",
		FailedAt: oaStubTime, Event: json.RawMessage(`{"seq":4}`)}}, true, s.err
}
func (s stubWebhooks) Redeliver(context.Context, string, uint64) (webhook.Redelivery, error) {
	return webhook.Redelivery{Sequence: 4, Type: domain.EventTransferPosted, Status: "delivered", Attempts: 7}, s.err
}

// streamWait bounds the wait for the stub feed's event on a stream.
const streamWait = 5 * time.Second

// stubFeed sends one event and then waits for the end.
type stubFeed struct{}

func (stubFeed) Follow(ctx context.Context, _ uint64, _ []domain.EventType, fn func([]byte, *domain.Event) error) error {
	ev := oaStubEvent()
	if err := fn([]byte(`{"seq":7}`), ev); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func TestOpenAPIContractEventsAndWebhooks(t *testing.T) {
	doc := oaLoadDoc(t)
	ok := stubWebhooks{}
	hook := `{"url":"https://example.com/h","events":["TransferPosted"],"account":"alice"}`
	tests := []struct {
		name, method, target, route, body string
		hooks                             webhook.Registry
		status                            int
		code                              domain.Code
	}{
		{"create", "POST", "/v1/webhooks", "/v1/webhooks", hook, ok, 201, ""},
		{"create bad url", "POST", "/v1/webhooks", "/v1/webhooks", `{"url":"ftp://x","events":["TransferPosted"]}`, ok, 400, domain.CodeValidationFailed},
		{"create refused address", "POST", "/v1/webhooks", "/v1/webhooks", hook, stubWebhooks{err: &domain.FieldError{Field: "url", Reason: "internal"}}, 400, domain.CodeValidationFailed},
		{"create over the limit", "POST", "/v1/webhooks", "/v1/webhooks", hook, stubWebhooks{err: webhook.ErrLimit}, 409, api.CodeWebhookLimit},
		{"create store down", "POST", "/v1/webhooks", "/v1/webhooks", hook, stubWebhooks{err: errors.New("nats: timeout")}, 503, api.CodeUnavailable},
		{"create not configured", "POST", "/v1/webhooks", "/v1/webhooks", hook, nil, 503, api.CodeUnavailable},
		{"list", "GET", "/v1/webhooks", "/v1/webhooks", "", ok, 200, ""},
		{"get", "GET", "/v1/webhooks/wh_1", "/v1/webhooks/{id}", "", ok, 200, ""},
		{"get missing", "GET", "/v1/webhooks/wh_2", "/v1/webhooks/{id}", "", stubWebhooks{err: webhook.ErrNotFound}, 404, api.CodeWebhookNotFound},
		{"delete", "DELETE", "/v1/webhooks/wh_1", "/v1/webhooks/{id}", "", ok, 200, ""},
		{"delete missing", "DELETE", "/v1/webhooks/wh_2", "/v1/webhooks/{id}", "", stubWebhooks{err: webhook.ErrNotFound}, 404, api.CodeWebhookNotFound},
		{"dead letters", "GET", "/v1/webhooks/wh_1/dead-letters?limit=1&cursor=3", "/v1/webhooks/{id}/dead-letters", "", ok, 200, ""},
		{"dead letters bad cursor", "GET", "/v1/webhooks/wh_1/dead-letters?cursor=x", "/v1/webhooks/{id}/dead-letters", "", ok, 400, domain.CodeValidationFailed},
		{"redeliver", "POST", "/v1/webhooks/wh_1/dead-letters/4/redeliver", "/v1/webhooks/{id}/dead-letters/{seq}/redeliver", "", ok, 200, ""},
		{"redeliver missing", "POST", "/v1/webhooks/wh_1/dead-letters/5/redeliver", "/v1/webhooks/{id}/dead-letters/{seq}/redeliver", "", stubWebhooks{err: webhook.ErrDeadLetterNotFound}, 404, api.CodeDeadLetterNotFound},
		{"redeliver fails", "POST", "/v1/webhooks/wh_1/dead-letters/4/redeliver", "/v1/webhooks/{id}/dead-letters/{seq}/redeliver", "", stubWebhooks{err: &webhook.DeliveryError{Status: 500, Reason: "the endpoint answered 500"}}, 502, api.CodeDeliveryFailed},
		{"events not configured", "GET", "/v1/events?from=1", "/v1/events", "", nil, 503, api.CodeUnavailable},
		{"events bad type", "GET", "/v1/events?type=Nope", "/v1/events", "", nil, 400, domain.CodeValidationFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := oaNew(api.Config{Webhooks: tc.hooks}, nil, &oaStubRead{})
			rec := oaDo(t, e, tc.method, tc.target, tc.body, nil)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.code != "" {
				apidoc.CheckProblem(t, doc, rec, tc.code)
			}
			apidoc.CheckDocumented(t, doc, tc.method+" "+tc.route, rec, tc.code)
		})
	}

	// A stream: 200 text/event-stream, the event, until the client leaves.
	t.Run("events", func(t *testing.T) {
		e := oaNew(api.Config{Events: stubFeed{}}, nil, &oaStubRead{})
		srv := httptest.NewServer(e)
		t.Cleanup(srv.Close) // after the stream ends, when the test returns
		ctx, cancel := context.WithTimeout(context.Background(), streamWait)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/events?type=TransferPosted", nil)
		req.Header.Set("Authorization", "Bearer "+oaToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		op := apidoc.Operations(t, doc)["GET /v1/events"]
		if _, ok := apidoc.Obj(t, op, "responses")["200"]; !ok || res.StatusCode != 200 || res.Header.Get("Content-Type") != apidoc.MimeEventStream {
			t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		buf := make([]byte, 256)
		deadline := time.Now().Add(streamWait)
		var got string
		for time.Now().Before(deadline) {
			n, err := res.Body.Read(buf)
			got += string(buf[:n])
			if err != nil || strings.Contains(got, "data: ") && strings.HasSuffix(got, "\n\n") {
				break
			}
		}
		if want := "id: 7\nevent: transfer_posted\ndata: {\"seq\":7}\n\n"; !strings.Contains(got, want) {
			t.Fatalf("stream %q lacks %q", got, want)
		}
	})
}
