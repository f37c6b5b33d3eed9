package webhook

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"
)

// Config configures webhooks. Zero values take the defaults below.
type Config struct {
	// AllowPrivateNetworks lets webhooks reach loopback, private,
	// link-local and other internal addresses. Off by default: a webhook
	// URL is chosen by an API client, and the ledger must not become a
	// proxy into its own network (SSRF). Tests and trusted single-host
	// setups turn it on.
	AllowPrivateNetworks bool
	// AllowNetworks are networks (CIDRs, as ParseNetwork reads them)
	// webhooks may reach although the policy refuses their addresses: an
	// operator's receivers on a private network. Loopback and this host
	// are opened only by a network inside them (127.0.0.0/8, ::1/128),
	// never by a broader one. At most AllowNetworksMax. None by default.
	AllowNetworks []netip.Prefix
	// MaxWebhooks bounds the webhooks of a ledger.
	MaxWebhooks int
	// DeadLettersMax bounds the dead letters kept per webhook; past it the
	// oldest is dropped (the event stays in the journal, and the drop is
	// logged).
	DeadLettersMax int
	// DeliveryTimeout bounds one delivery attempt: connect, send, and the
	// endpoint's answer.
	DeliveryTimeout time.Duration
	// Retry is the backoff between attempts of one delivery.
	Retry  Retry
	Logger *slog.Logger
	// Clock times the waits between attempts and the next attempt's time
	// in the log; nil is the system clock. Tests give a fake one.
	Clock Clock
	// Observer is told each attempt's result, for metrics; nil: nobody.
	Observer Observer
	// Replicas is the buckets' replica count (ADR 0025); 0 keeps what
	// they have, 1 for new ones.
	Replicas int
	// Exclusive runs deliveries only while this service holds the
	// ledger's delivery lease (lease.go): for several API nodes of one
	// ledger, of which exactly one must deliver. False: this service
	// delivers, the only one of its ledger.
	Exclusive bool
}

// Observer is told what webhook delivery does. Its methods must not block.
type Observer interface {
	WebhookDelivered()    // an attempt the endpoint accepted
	WebhookRetried()      // an attempt that failed, with another one due
	WebhookDeadLettered() // a delivery given up on and filed as a dead letter
}

type nopObserver struct{}

func (nopObserver) WebhookDelivered()    {}
func (nopObserver) WebhookRetried()      {}
func (nopObserver) WebhookDeadLettered() {}

// Retry is a capped exponential backoff: InitialInterval, then times
// Multiplier after each failure, at most MaxInterval, each wait spread by
// ±10 % (capped at MaxInterval), for at most MaxRetries retries after the
// first attempt and never past 10 minutes from it (Wait gives the nominal
// waits).
type Retry struct {
	MaxRetries      int
	InitialInterval time.Duration
	MaxInterval     time.Duration
	Multiplier      float64
}

// Defaults. With them a failing endpoint gets 6 attempts at an event over
// about half a minute (waits of 1, 2, 4, 8 and 16 s) before the event
// becomes a dead letter.
const (
	DefaultMaxWebhooks     = 100
	DefaultDeadLettersMax  = 1_000
	DefaultDeliveryTimeout = 10 * time.Second
	DefaultMaxRetries      = 5
	DefaultInitialInterval = time.Second
	DefaultMaxInterval     = 30 * time.Second
	DefaultMultiplier      = 2
	// retriesElapsedMax bounds the retries of one delivery in time,
	// whatever the counts above.
	retriesElapsedMax = 10 * time.Minute
	// responseBodyMax bounds what is read of an endpoint's answer (and
	// thrown away) so that its connection can be reused.
	responseBodyMax = 64 << 10
	// storeTimeout bounds one store operation that has no request context.
	storeTimeout = 5 * time.Second
	// restartBackoffMin and restartBackoffMax bound the wait before a
	// webhook's delivery restarts after it stopped on an error.
	restartBackoffMin = 100 * time.Millisecond
	restartBackoffMax = 30 * time.Second
	// routerCloseTimeout bounds waiting for a delivery in flight when a
	// webhook's delivery stops.
	routerCloseTimeout = 15 * time.Second
	// definitionMaxBytes bounds a stored webhook; deadLetterMaxBytes a
	// stored dead letter (a journal line is far smaller).
	definitionMaxBytes = 16 << 10
	deadLetterMaxBytes = 1 << 20
	// deadLettersBucketMaxBytes bounds the dead-letter bucket as a whole.
	deadLettersBucketMaxBytes = 1 << 30
)

func (c *Config) setDefaults() {
	if c.MaxWebhooks <= 0 {
		c.MaxWebhooks = DefaultMaxWebhooks
	}
	if c.DeadLettersMax <= 0 {
		c.DeadLettersMax = DefaultDeadLettersMax
	}
	if c.DeliveryTimeout <= 0 {
		c.DeliveryTimeout = DefaultDeliveryTimeout
	}
	if c.Retry.MaxRetries <= 0 {
		c.Retry.MaxRetries = DefaultMaxRetries
	}
	if c.Retry.InitialInterval <= 0 {
		c.Retry.InitialInterval = DefaultInitialInterval
	}
	if c.Retry.MaxInterval <= 0 {
		c.Retry.MaxInterval = DefaultMaxInterval
	}
	if c.Retry.Multiplier < 1 {
		c.Retry.Multiplier = DefaultMultiplier
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
}

// DefaultRetry is the schedule a zero Retry takes: 5 retries after waits
// of 1, 2, 4, 8 and 16 s (each ±10 %), at most 30 s apart.
func DefaultRetry() Retry {
	return Retry{MaxRetries: DefaultMaxRetries, InitialInterval: DefaultInitialInterval,
		MaxInterval: DefaultMaxInterval, Multiplier: DefaultMultiplier}
}

// check refuses a configuration the service cannot keep.
func (c *Config) check() error {
	if len(c.AllowNetworks) > AllowNetworksMax {
		return fmt.Errorf("webhooks: %d networks allowed, at most %d", len(c.AllowNetworks), AllowNetworksMax)
	}
	c.AllowNetworks = slices.Clone(c.AllowNetworks) // the caller's slice stays as given
	for i, p := range c.AllowNetworks {
		if !p.IsValid() {
			return fmt.Errorf("webhooks: allowed network %d is not a network", i)
		}
		c.AllowNetworks[i] = p.Masked()
	}
	return nil
}
