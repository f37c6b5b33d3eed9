package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/internal/ledgertest/apidoc"
)

// TestStatusContract checks GET /v1/status's answers without a ledger: 503
// when no status source is configured or it fails, and a read model
// reported ahead of the journal raises the journal's figures.
func TestStatusContract(t *testing.T) {
	doc := oaLoadDoc(t)
	const op = "GET /v1/status"
	for _, tc := range []struct {
		name   string
		status func(context.Context) (api.StatusView, error)
	}{
		{"not configured", nil},
		{"failing", func(context.Context) (api.StatusView, error) {
			return api.StatusView{}, errors.New("sql: database is closed")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := oaDo(t, oaNew(api.Config{Status: tc.status}, nil, nil), http.MethodGet, "/v1/status", "", nil)
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503: %s", rec.Code, rec.Body)
			}
			apidoc.CheckProblem(t, doc, rec, api.CodeUnavailable)
			apidoc.CheckDocumented(t, doc, op, rec, api.CodeUnavailable)
		})
	}
	t.Run("read model ahead", func(t *testing.T) {
		ahead := func(context.Context) (api.StatusView, error) {
			return api.StatusView{
				Journal:   api.JournalStatus{Sequence: 5, Position: 3},
				ReadModel: api.ReadModelStatus{Sequence: 7, Position: 4},
				Processor: api.ProcessorStatus{Ready: false},
			}, nil
		}
		rec := oaDo(t, oaNew(api.Config{Status: ahead}, nil, nil), http.MethodGet, "/v1/status", "", nil)
		apidoc.CheckDocumented(t, doc, op, rec, "")
		want := `{"journal":{"sequence":7,"position":4},"read_model":{"sequence":7,"position":4,"behind":0},"processor":{"ready":false}}`
		if got := strings.TrimSpace(rec.Body.String()); got != want {
			t.Errorf("body %s, want %s", got, want)
		}
	})
	t.Run("behind", func(t *testing.T) {
		behind := func(context.Context) (api.StatusView, error) {
			return api.StatusView{
				Journal:   api.JournalStatus{Sequence: 1000, Position: 40},
				ReadModel: api.ReadModelStatus{Sequence: 250, Position: 10, Behind: 99}, // Behind is the handler's
				Processor: api.ProcessorStatus{Ready: true},
			}, nil
		}
		rec := oaDo(t, oaNew(api.Config{Status: behind}, nil, nil), http.MethodGet, "/v1/status", "", nil)
		apidoc.CheckDocumented(t, doc, op, rec, "")
		want := `{"journal":{"sequence":1000,"position":40},"read_model":{"sequence":250,"position":10,"behind":750},"processor":{"ready":true}}`
		if got := strings.TrimSpace(rec.Body.String()); got != want {
			t.Errorf("body %s, want %s", got, want)
		}
	})
}
