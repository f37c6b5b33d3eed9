package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
)

// Webhooks: HTTP endpoints the ledger POSTs journal events to, signed,
// retried, with a dead-letter list. The API checks requests' shape; a
// Webhooks implementation stores, delivers and enforces the address policy
// (docs/events/webhooks.md).

// Webhook is a registered endpoint as listed: without its secret.
type Webhook struct {
	ID      string             `json:"id"`
	URL     string             `json:"url"`
	Events  []domain.EventType `json:"events"`
	Account string             `json:"account,omitempty"`
	// FromSequence is the first ledger sequence the webhook receives: the
	// journal's end when it was created.
	FromSequence uint64    `json:"from_sequence"`
	CreatedAt    time.Time `json:"created_at"`
}

// CreatedWebhook is a new webhook with its signing secret, which is
// answered once, at creation, and never again.
type CreatedWebhook struct {
	Webhook
	Secret string `json:"secret"`
}

// WebhookSpec is what a client asks for.
type WebhookSpec struct {
	URL     string
	Events  []domain.EventType
	Account string
}

// DeadLetter is an event a webhook could not deliver after its retries.
type DeadLetter struct {
	Sequence uint64           `json:"sequence"`
	Type     domain.EventType `json:"type"`
	Attempts int              `json:"attempts"`
	Error    string           `json:"error"`
	FailedAt time.Time        `json:"failed_at"`
	// Event is the event as stored in the journal.
	Event json.RawMessage `json:"event"`
}

// Redelivery is the answer to a successful redelivery.
type Redelivery struct {
	Sequence uint64           `json:"sequence"`
	Type     domain.EventType `json:"type"`
	Status   string           `json:"status"` // "delivered"
	Attempts int              `json:"attempts"`
}

// Errors a Webhooks implementation returns.
var (
	ErrWebhookNotFound    = errors.New("no such webhook")
	ErrDeadLetterNotFound = errors.New("no such dead letter")
	ErrWebhookLimit       = errors.New("webhook limit reached")
)

// DeliveryError is a delivery that failed: the endpoint's status (0 when
// none came back) and why.
type DeliveryError struct {
	Status int
	Reason string
}

func (e *DeliveryError) Error() string { return "delivery failed: " + e.Reason }

// Webhooks stores webhooks and delivers events to them.
type Webhooks interface {
	// Create stores a webhook whose spec has the right shape, returns it
	// with its secret, and delivers every matching event appended from
	// then on. It returns ErrWebhookLimit when the limit is reached and a
	// *domain.FieldError for a URL the address policy refuses.
	Create(ctx context.Context, spec WebhookSpec) (CreatedWebhook, error)
	// List returns every webhook, oldest first.
	List(ctx context.Context) ([]Webhook, error)
	// Get returns one webhook, or ErrWebhookNotFound.
	Get(ctx context.Context, id string) (Webhook, error)
	// Delete stops deliveries, forgets the webhook and its dead letters,
	// and returns what it was; ErrWebhookNotFound if there is none.
	Delete(ctx context.Context, id string) (Webhook, error)
	// DeadLetters returns up to limit dead letters with sequences above
	// after, in sequence order, and whether more follow;
	// ErrWebhookNotFound if there is no such webhook.
	DeadLetters(ctx context.Context, id string, after uint64, limit int) ([]DeadLetter, bool, error)
	// Redeliver tries the dead letter of sequence seq once more, now. On
	// success the dead letter is removed; on failure it stays, with the
	// attempt counted, and a *DeliveryError is returned.
	// ErrWebhookNotFound, ErrDeadLetterNotFound when absent.
	Redeliver(ctx context.Context, id string, seq uint64) (Redelivery, error)
}

// Request limits.
const (
	// WebhookURLMaxLen bounds a webhook URL.
	WebhookURLMaxLen = 2_048
	// webhookEventsMax is the number of event types: each at most once.
	webhookEventsMax = 4
)

type webhookRequest struct {
	URL     *string  `json:"url"`
	Events  []string `json:"events"`
	Account string   `json:"account"`
}

// spec checks the request's shape: an absolute http(s) URL without
// credentials or fragment, known event types, a valid account id.
func (r webhookRequest) spec() (WebhookSpec, error) {
	if r.URL == nil || len(r.Events) == 0 {
		return WebhookSpec{}, problem(domain.CodeValidationFailed, "url and events are required")
	}
	spec := WebhookSpec{URL: *r.URL, Account: r.Account}
	if len(spec.URL) > WebhookURLMaxLen {
		return spec, &domain.FieldError{Field: "url", Reason: "longer than 2048 characters"}
	}
	u, err := url.Parse(spec.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return spec, &domain.FieldError{Field: "url", Reason: "must be an absolute http or https URL"}
	}
	if u.User != nil || u.Fragment != "" {
		return spec, &domain.FieldError{Field: "url", Reason: "must not carry credentials or a fragment"}
	}
	if len(r.Events) > webhookEventsMax {
		return spec, &domain.FieldError{Field: "events", Reason: "at most 4 event types, each once"}
	}
	for _, e := range r.Events {
		t := domain.EventType(e)
		if !slices.Contains(domain.EventTypes, t) || slices.Contains(spec.Events, t) {
			return spec, &domain.FieldError{Field: "events", Reason: "must list distinct types among AssetDefined, AccountOpened, TransferPosted, TransferRejected"}
		}
		spec.Events = append(spec.Events, t)
	}
	if spec.Account != "" {
		if err := domain.ValidateID("account", spec.Account); err != nil {
			return spec, err
		}
	}
	return spec, nil
}

// webhookHandlers serves /v1/webhooks.
type webhookHandlers struct {
	s     *Server
	hooks Webhooks
}

func (h *webhookHandlers) available() error {
	if h.hooks == nil {
		return problem(CodeUnavailable, "webhooks are not configured on this server")
	}
	return nil
}

// fail turns a Webhooks error into a problem.
func (h *webhookHandlers) fail(err error) error {
	var fe *domain.FieldError
	var de *DeliveryError
	switch {
	case errors.Is(err, ErrWebhookNotFound):
		return problem(CodeWebhookNotFound, "no such webhook")
	case errors.Is(err, ErrDeadLetterNotFound):
		return problem(CodeDeadLetterNotFound, "no dead letter with this sequence")
	case errors.Is(err, ErrWebhookLimit):
		return problem(CodeWebhookLimit, err.Error())
	case errors.As(err, &de):
		return problem(CodeDeliveryFailed, de.Error())
	case errors.As(err, &fe):
		return fe
	}
	h.s.log.Error("webhooks", "err", err)
	return problem(CodeUnavailable, "the webhook store is unavailable")
}

func webhookID(c echo.Context) (string, error) {
	id := c.Param("id")
	if err := domain.ValidateID("id", id); err != nil {
		return "", err
	}
	return id, nil
}

func (h *webhookHandlers) create(c echo.Context) error {
	var req webhookRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	spec, err := req.spec()
	if err != nil {
		return err
	}
	if err := h.available(); err != nil {
		return err
	}
	w, err := h.hooks.Create(c.Request().Context(), spec)
	if err != nil {
		return h.fail(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/webhooks/"+w.ID)
	return respond(c, http.StatusCreated, w)
}

func (h *webhookHandlers) list(c echo.Context) error {
	if err := h.available(); err != nil {
		return err
	}
	ws, err := h.hooks.List(c.Request().Context())
	if err != nil {
		return h.fail(err)
	}
	if ws == nil {
		ws = []Webhook{}
	}
	return respond(c, http.StatusOK, map[string][]Webhook{"data": ws})
}

func (h *webhookHandlers) get(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	if err := h.available(); err != nil {
		return err
	}
	w, err := h.hooks.Get(c.Request().Context(), id)
	if err != nil {
		return h.fail(err)
	}
	return respond(c, http.StatusOK, w)
}

func (h *webhookHandlers) delete(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	if err := h.available(); err != nil {
		return err
	}
	w, err := h.hooks.Delete(c.Request().Context(), id)
	if err != nil {
		return h.fail(err)
	}
	return respond(c, http.StatusOK, w)
}

// deadLetterPage is a page of dead letters; next_cursor is the last
// sequence of the page when more follow, null on the last page.
type deadLetterPage struct {
	Data       []DeadLetter `json:"data"`
	NextCursor *string      `json:"next_cursor"`
}

func (h *webhookHandlers) deadLetters(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	var after uint64
	if raw := c.QueryParam("cursor"); raw != "" {
		if after, err = strconv.ParseUint(raw, 10, 64); err != nil {
			return &domain.FieldError{Field: "cursor", Reason: "not a cursor this server issued"}
		}
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	if err := h.available(); err != nil {
		return err
	}
	dls, more, err := h.hooks.DeadLetters(c.Request().Context(), id, after, limit)
	if err != nil {
		return h.fail(err)
	}
	page := deadLetterPage{Data: dls}
	if page.Data == nil {
		page.Data = []DeadLetter{}
	}
	if more && len(dls) > 0 {
		next := strconv.FormatUint(dls[len(dls)-1].Sequence, 10)
		page.NextCursor = &next
	}
	return respond(c, http.StatusOK, page)
}

func (h *webhookHandlers) redeliver(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(c.Param("seq")), 10, 64)
	if err != nil || seq == 0 {
		return &domain.FieldError{Field: "seq", Reason: "must be a ledger sequence"}
	}
	if err := h.available(); err != nil {
		return err
	}
	r, err := h.hooks.Redeliver(c.Request().Context(), id, seq)
	if err != nil {
		return h.fail(err)
	}
	return respond(c, http.StatusOK, r)
}
