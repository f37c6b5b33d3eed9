package subscriber

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
)

// Config configures a Subscriber.
type Config struct {
	// Conn is a connection to the NATS server that holds the journal. The
	// subscriber uses it for stream lookups and consumer management, and
	// opens connections of its own with the same options for delivery
	// (watermill's subscriber closes the connection it reads from). Set
	// Conn's options before New; the copies get no event callbacks.
	Conn *nats.Conn
	// Ledger is the ledger's name ("default" when empty).
	Ledger string
	// Start is where a new subscription begins; the zero value is the
	// beginning. A durable subscription that exists resumes instead.
	Start Start
	// Durable names a durable subscription (1-64 of A-Z a-z 0-9 _ -): a
	// JetStream durable consumer of that name on the journal stream keeps
	// its position, so a later run (in this process or another) resumes
	// where the last one stopped. Run one subscriber per name at a time.
	// Empty: ephemeral, gone when the subscription ends.
	Durable string
	// Types restricts delivery to these event types (server-side, by
	// subject); empty means every type.
	Types []domain.EventType
	// Logger receives warnings about resubscriptions; slog.Default when nil.
	Logger *slog.Logger
}

// Errors of New and of a subscription.
var (
	ErrConfig = errors.New("invalid subscriber configuration")
	// ErrGap means an unfiltered subscription saw a sequence that does not
	// follow the previous one: the journal is not what it must be.
	ErrGap = errors.New("journal sequence gap")
	// ErrRunning means Run or Subscribe was called while a subscription of
	// the same Subscriber was active.
	ErrRunning = errors.New("subscriber is already running")
)

var durableNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Resubscription backoff after a transient error (a lost connection, a
// deleted consumer): it doubles while nothing is delivered.
const (
	resubscribeBackoffMin = 100 * time.Millisecond
	resubscribeBackoffMax = 10 * time.Second
	// nackRedeliveryDelay is how long a nacked message waits before it is
	// offered again (Subscribe).
	nackRedeliveryDelay = 100 * time.Millisecond
)

// Subscriber reads the journal of one ledger as single events. It delivers
// one event at a time, in ledger order, and the next only after the
// previous is handled. It is safe for one subscription at a time.
type Subscriber struct {
	cfg      Config
	js       jetstream.JetStream // on cfg.Conn
	connOpts nats.Options        // for the sessions' own connections
	stream   string
	filters  []string
	log      *slog.Logger

	mu      sync.Mutex
	running bool
	stop    context.CancelFunc
	done    chan struct{}

	// Delivery state, touched by the one running subscription only.
	lastSeq uint64 // last event handed out and acknowledged
	nextPos uint64 // position after the last record acknowledged
	skip    skipFilter
}

// skipFilter drops the events before a subscription's start inside the
// first record it reads (a record may begin before the start).
type skipFilter struct {
	seq     uint64
	at      time.Time
	reached bool // an event at or after at was delivered
}

// New checks cfg and returns a Subscriber; nothing is contacted yet.
func New(cfg Config) (*Subscriber, error) {
	if cfg.Conn == nil {
		return nil, fmt.Errorf("%w: no NATS connection", ErrConfig)
	}
	if cfg.Ledger == "" {
		cfg.Ledger = "default"
	}
	if cfg.Durable != "" && !durableNameRE.MatchString(cfg.Durable) {
		return nil, fmt.Errorf("%w: durable name %q: use 1-64 of A-Z a-z 0-9 _ -", ErrConfig, cfg.Durable)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	s := &Subscriber{cfg: cfg, js: js, connOpts: journalio.OwnConnOptions(cfg.Conn, "ledger-subscriber"), stream: JournalStream(cfg.Ledger),
		log: cfg.Logger.With("component", "subscriber", "durable", cfg.Durable)}
	for _, t := range cfg.Types {
		if !slices.Contains(domain.EventTypes, t) {
			return nil, fmt.Errorf("%w: unknown event type %q", ErrConfig, t)
		}
		if subj := EventSubject(cfg.Ledger, t); !slices.Contains(s.filters, subj) {
			s.filters = append(s.filters, subj)
		}
	}
	return s, nil
}

// Ensure creates the durable consumer now if it does not exist, at
// cfg.Start, so that events appended from this moment on are delivered
// even if the first run starts later. It does nothing for an ephemeral
// subscription.
func (s *Subscriber) Ensure(ctx context.Context) error {
	if s.cfg.Durable == "" {
		return nil
	}
	if err := s.begin(nil); err != nil {
		return err
	}
	defer s.end()
	_, err := s.consumer(ctx, s.js)
	return err
}

// Run delivers events to handler, one at a time in ledger order, until ctx
// ends (it then returns nil) or handler returns an error, which Run
// returns. A record's events are acknowledged once all are handled, so
// after a failure or a crash a durable subscription delivers again the
// events of the record it was in: deduplicate by Event.Seq. (Within one
// Subscriber, Run again skips the events it already delivered.) Transient
// failures (a lost connection, a deleted consumer) are retried with
// backoff; a malformed record stops Run with ErrCorrupt.
func (s *Subscriber) Run(ctx context.Context, handler func(context.Context, Event) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := s.begin(cancel); err != nil {
		return err
	}
	defer s.end()
	first, err := s.open(ctx)
	if err != nil {
		return err
	}
	return s.follow(ctx, first, func(ctx context.Context, ev Event) error {
		if err := handler(ctx, ev); err != nil {
			return &handlerError{err: err}
		}
		return nil
	})
}

// handlerError carries a handler's error out of follow.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// Subscribe makes a Subscriber a watermill message.Subscriber, for use
// under a watermill Router with its middleware: each message is one event
// (payload: the stored line; metadata: MetaSeq, MetaType, MetaPosition;
// UUID: "<ledger>:<seq>"), offered only after the previous one is acked.
// A nacked message is offered again after a short delay. topic must be
// empty or the journal stream's name. The channel closes when ctx ends,
// on Close, or on a malformed record (logged).
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic != "" && topic != s.stream {
		return nil, fmt.Errorf("%w: topic %q, want %q or empty", ErrConfig, topic, s.stream)
	}
	ctx, cancel := context.WithCancel(ctx)
	if err := s.begin(cancel); err != nil {
		cancel()
		return nil, err
	}
	first, err := s.open(ctx)
	if err != nil {
		cancel()
		s.end()
		return nil, err
	}
	out := make(chan *message.Message)
	go func() {
		// The Subscriber is free again before the channel closes, so that
		// whoever sees it close may subscribe anew.
		defer close(out)
		defer s.end()
		defer cancel()
		if err := s.follow(ctx, first, s.emitTo(out)); err != nil {
			s.log.Error("journal subscription stopped", "err", err)
		}
	}()
	return out, nil
}

// emitTo offers each event on out as a watermill message and waits for
// its ack, offering it again after a nack.
func (s *Subscriber) emitTo(out chan<- *message.Message) func(context.Context, Event) error {
	return func(ctx context.Context, ev Event) error {
		for {
			m := message.NewMessage(s.cfg.Ledger+":"+strconv.FormatUint(ev.Seq, 10), ev.Line)
			m.Metadata.Set(MetaSeq, strconv.FormatUint(ev.Seq, 10))
			m.Metadata.Set(MetaType, string(ev.Type))
			m.Metadata.Set(MetaPosition, strconv.FormatUint(ev.Position, 10))
			m.SetContext(ctx)
			select {
			case out <- m:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case <-m.Acked():
				return nil
			case <-m.Nacked():
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case <-time.After(nackRedeliveryDelay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// Close ends the running subscription, if any, and waits for it to stop.
// The Subscriber may subscribe again afterwards (a watermill Router closes
// its subscribers when it stops).
func (s *Subscriber) Close() error {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	return nil
}

// begin marks a subscription (or Ensure) as running; stop ends it.
func (s *Subscriber) begin(stop context.CancelFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return ErrRunning
	}
	s.running, s.stop, s.done = true, stop, make(chan struct{})
	return nil
}

func (s *Subscriber) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running, s.stop = false, nil
	close(s.done)
}

// resumePosition is where a new consumer continues this Subscriber's
// delivery, 0 before any record was acknowledged.
func (s *Subscriber) resumePosition() uint64 { return s.nextPos }
