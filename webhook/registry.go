package webhook

import (
	"context"
	"errors"
)

// Errors a Registry returns. The API turns each into its own stable code.
var (
	// ErrNotFound means there is no webhook with the id.
	ErrNotFound = errors.New("no such webhook")
	// ErrDeadLetterNotFound means the webhook has no dead letter with the
	// sequence.
	ErrDeadLetterNotFound = errors.New("no such dead letter")
	// ErrLimit means the most webhooks a ledger keeps are registered.
	ErrLimit = errors.New("webhook limit reached")
)

// DeliveryError is a delivery that failed: the endpoint's status (0 when
// none came back) and why.
type DeliveryError struct {
	Status int
	Reason string
}

func (e *DeliveryError) Error() string { return "delivery failed: " + e.Reason }

// Registry stores webhooks and delivers events to them: the port the API
// serves /v1/webhooks through. Any error other than the ones each method
// names means the registry could not answer (its store is unavailable or
// it is closed), and says nothing of whether a Create or Delete happened.
type Registry interface {
	// Create stores a webhook whose spec has the right shape, returns it
	// with its secret, and delivers every matching event appended from
	// then on. It returns ErrLimit (wrapped) when the limit is reached and
	// a *domain.FieldError for a URL the address policy refuses.
	Create(ctx context.Context, spec Spec) (Created, error)
	// List returns every webhook, oldest first.
	List(ctx context.Context) ([]Webhook, error)
	// Get returns one webhook, or ErrNotFound.
	Get(ctx context.Context, id string) (Webhook, error)
	// Delete stops deliveries, forgets the webhook and its dead letters,
	// and returns what it was; ErrNotFound if there is none.
	Delete(ctx context.Context, id string) (Webhook, error)
	// DeadLetters returns up to limit dead letters with sequences above
	// after, in sequence order, and whether more follow; ErrNotFound if
	// there is no such webhook.
	DeadLetters(ctx context.Context, id string, after uint64, limit int) ([]DeadLetter, bool, error)
	// Redeliver tries the dead letter of sequence seq once more, now. On
	// success the dead letter is removed; on failure it stays, with the
	// attempt counted, and a *DeliveryError is returned. ErrNotFound or
	// ErrDeadLetterNotFound when absent.
	Redeliver(ctx context.Context, id string, seq uint64) (Redelivery, error)
}
