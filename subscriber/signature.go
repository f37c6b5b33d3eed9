package subscriber

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Webhook signatures (docs/events/webhooks.md). Every delivery carries
//
//	Ledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
//
// where secret is the webhook's secret as returned at its creation (the
// whole string, as bytes) and body the request body as received.

// HeaderSignature is the header that signs a webhook delivery.
const HeaderSignature = "Ledger-Signature"

// Headers that describe a webhook delivery.
const (
	HeaderEventID   = "Ledger-Event-Id"   // the event's ledger sequence
	HeaderEventType = "Ledger-Event-Type" // the event's type
	HeaderWebhookID = "Ledger-Webhook-Id" // the webhook's id
)

// DefaultSignatureTolerance is how far a signature's time may be from the
// receiver's clock: it bounds how long a captured delivery can be replayed.
const DefaultSignatureTolerance = 5 * time.Minute

// ErrSignature means a webhook signature is missing, malformed, does not
// match the body, or is too old or too new.
var ErrSignature = errors.New("webhook signature does not verify")

// signatureHeaderMaxLen bounds the header a receiver parses.
const signatureHeaderMaxLen = 1_024

// Sign returns the Ledger-Signature value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature checks a Ledger-Signature value against the body as
// received: one of its v1 signatures must match (compared in constant
// time) and its time must be within tolerance of now.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(header) > signatureHeaderMaxLen {
		return fmt.Errorf("%w: header too long", ErrSignature)
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: want t=<unix seconds>,v1=<hex>", ErrSignature)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed %v from now, more than %v", ErrSignature, d.Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no signature matches", ErrSignature)
}
