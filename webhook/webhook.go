package webhook

import (
	"encoding/json"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

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

// Created is a new webhook with its signing secret, which is answered
// once, at creation, and never again.
type Created struct {
	Webhook
	Secret string `json:"secret"`
}

// Spec is what a client asks for: the API has checked its shape.
type Spec struct {
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
