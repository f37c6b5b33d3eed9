package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/webhook"
)

// Webhooks: HTTP endpoints the ledger POSTs journal events to, signed,
// retried, with a dead-letter list. The API checks requests' shape and
// answers with the model of package webhook; a webhook.Registry stores,
// delivers and enforces the address policy (docs/events/webhooks.md).

// Request limits.
const (
	// WebhookURLMaxLen bounds a webhook URL.
	WebhookURLMaxLen = 2_048
)

type webhookRequest struct {
	URL     *string  `json:"url"`
	Events  []string `json:"events"`
	Account string   `json:"account"`
}

// spec checks the request's shape: an absolute http(s) URL without
// credentials or fragment, known event types, a valid account id.
func (r webhookRequest) spec() (webhook.Spec, error) {
	if r.URL == nil || len(r.Events) == 0 {
		return webhook.Spec{}, problem(domain.CodeValidationFailed, "url and events are required")
	}
	spec := webhook.Spec{URL: *r.URL, Account: r.Account}
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
	// The types are listed each at most once: at most every type.
	if len(r.Events) > len(domain.EventTypes) {
		return spec, &domain.FieldError{Field: "events", Reason: fmt.Sprintf("at most %d event types, each once", len(domain.EventTypes))}
	}
	for _, e := range r.Events {
		t := domain.EventType(e)
		if !slices.Contains(domain.EventTypes, t) || slices.Contains(spec.Events, t) {
			return spec, &domain.FieldError{Field: "events", Reason: "must list distinct event types (docs/journal.md)"}
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
	hooks webhook.Registry
}

func (h *webhookHandlers) available() error {
	if h.hooks == nil {
		return problem(CodeUnavailable, "webhooks are not configured on this server")
	}
	return nil
}

// fail turns a webhook.Registry error into a problem.
func (h *webhookHandlers) fail(err error) error {
	var fe *domain.FieldError
	var de *webhook.DeliveryError
	switch {
	case errors.Is(err, webhook.ErrNotFound):
		return problem(CodeWebhookNotFound, "no such webhook")
	case errors.Is(err, webhook.ErrDeadLetterNotFound):
		return problem(CodeDeadLetterNotFound, "no dead letter with this sequence")
	case errors.Is(err, webhook.ErrLimit):
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
		ws = []webhook.Webhook{}
	}
	return respond(c, http.StatusOK, map[string][]webhook.Webhook{"data": ws})
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

func (h *webhookHandlers) deadLetters(c echo.Context) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	after, limit, err := positionQuery(c)
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
	return respond(c, http.StatusOK, newPositionPage(dls, more, func(d webhook.DeadLetter) uint64 { return d.Sequence }))
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
