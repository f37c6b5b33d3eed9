package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/subscriber"
	"github.com/nats-ledger/ledger/webhook"
)

// userAgent names the ledger to webhook endpoints.
const userAgent = "nats-ledger-webhooks/1"

// newClient is the delivery HTTP client: the address policy on every dial,
// no proxy, no redirects, bounded in time.
func (s *Service) newClient() *http.Client {
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the address policy
		DialContext:           s.newDialer().DialContext,
		TLSHandshakeTimeout:   s.cfg.DeliveryTimeout,
		ResponseHeaderTimeout: s.cfg.DeliveryTimeout,
		MaxIdleConnsPerHost:   2, // one delivery at a time per webhook
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       s.cfg.DeliveryTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// deliver POSTs one event, signed, and returns nil for a 2xx answer, a
// *webhook.DeliveryError for any other outcome of the attempt, or ctx's error
// when ctx ended (the delivery stops; it is not a failure of the endpoint).
func (s *Service) deliver(ctx context.Context, w stored, seq uint64, typ domain.EventType, body []byte) error {
	actx, cancel := context.WithTimeout(ctx, s.cfg.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return &webhook.DeliveryError{Reason: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(subscriber.HeaderSignature, subscriber.Sign(w.Secret, time.Now(), body))
	req.Header.Set(subscriber.HeaderEventID, strconv.FormatUint(seq, 10))
	req.Header.Set(subscriber.HeaderEventType, string(typ))
	req.Header.Set(subscriber.HeaderWebhookID, w.ID)
	res, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return &webhook.DeliveryError{Reason: "no answer within " + s.cfg.DeliveryTimeout.String()}
		}
		return &webhook.DeliveryError{Reason: err.Error()}
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, responseBodyMax))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &webhook.DeliveryError{Status: res.StatusCode, Reason: "the endpoint answered " + res.Status}
	}
	return nil
}
