package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/subscriber"
	"github.com/nats-ledger/ledger/webhook"
)

// deadLetterPublisher is the PoisonQueue's publisher: it files each
// message as a dead letter of its webhook.
type deadLetterPublisher struct {
	svc *Service
	w   stored
}

func (p deadLetterPublisher) Publish(_ string, msgs ...*message.Message) error {
	for _, m := range msgs {
		seq, err := strconv.ParseUint(m.Metadata.Get(subscriber.MetaSeq), 10, 64)
		if err != nil {
			return fmt.Errorf("dead letter without a sequence: %w", err)
		}
		attempts, _ := strconv.Atoi(m.Metadata.Get(metaAttempts))
		dl := webhook.DeadLetter{Sequence: seq, Type: domain.EventType(m.Metadata.Get(subscriber.MetaType)), Attempts: attempts,
			Error: m.Metadata.Get(middleware.ReasonForPoisonedKey), FailedAt: time.Now().UTC(), Event: json.RawMessage(m.Payload)}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err = p.svc.putDeadLetter(ctx, p.w.ID, dl)
		cancel()
		if err != nil {
			return err
		}
		p.svc.cfg.Observer.WebhookDeadLettered()
		p.svc.log.Warn("webhook delivery failed; dead-lettered", "webhook", p.w.ID, "sequence", seq, "attempts", attempts, "err", dl.Error)
	}
	return nil
}

func (deadLetterPublisher) Close() error { return nil }

// putDeadLetter stores dl, first dropping the oldest dead letters of the
// webhook beyond DeadLettersMax - 1.
func (s *Service) putDeadLetter(ctx context.Context, id string, dl webhook.DeadLetter) error {
	es, err := entries(ctx, s.dead, id+".>")
	if err != nil {
		return fmt.Errorf("webhook dead letters: %w", err)
	}
	keys := make([]string, 0, len(es))
	for _, e := range es {
		keys = append(keys, e.Key())
	}
	slices.Sort(keys) // by sequence: the keys are zero-padded
	for len(keys) >= s.cfg.DeadLettersMax {
		if err := s.dead.Purge(ctx, keys[0]); err != nil {
			return fmt.Errorf("drop dead letter: %w", err)
		}
		s.log.Warn("webhook dead letters full; dropped the oldest (the event stays in the journal)", "webhook", id, "key", keys[0], "max", s.cfg.DeadLettersMax)
		keys = keys[1:]
	}
	data, err := json.Marshal(dl)
	if err != nil {
		return err
	}
	if _, err := s.dead.Put(ctx, deadLetterKey(id, dl.Sequence), data); err != nil {
		return fmt.Errorf("store dead letter: %w", err)
	}
	return nil
}

// deadLetters returns the webhook's dead letters in sequence order.
func (s *Service) deadLetters(ctx context.Context, id string) ([]webhook.DeadLetter, error) {
	es, err := entries(ctx, s.dead, id+".>")
	if err != nil {
		return nil, fmt.Errorf("webhook dead letters: %w", err)
	}
	out := make([]webhook.DeadLetter, 0, len(es))
	for _, e := range es {
		var dl webhook.DeadLetter
		if err := json.Unmarshal(e.Value(), &dl); err != nil {
			return nil, fmt.Errorf("dead letter %s: %w", e.Key(), err)
		}
		out = append(out, dl)
	}
	slices.SortFunc(out, func(a, b webhook.DeadLetter) int { return compareUint(a.Sequence, b.Sequence) })
	return out, nil
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// DeadLetters returns up to limit dead letters after sequence after.
func (s *Service) DeadLetters(ctx context.Context, id string, after uint64, limit int) ([]webhook.DeadLetter, bool, error) {
	if _, err := s.load(ctx, id); err != nil {
		return nil, false, err
	}
	all, err := s.deadLetters(ctx, id)
	if err != nil {
		return nil, false, err
	}
	i, _ := slices.BinarySearchFunc(all, after+1, func(dl webhook.DeadLetter, seq uint64) int { return compareUint(dl.Sequence, seq) })
	all = all[i:]
	if len(all) > limit {
		return all[:limit], true, nil
	}
	return all, false, nil
}

// Redeliver makes one more attempt at a dead letter, now, outside the
// webhook's stream of deliveries (which goes on meanwhile, so the endpoint
// may see this event after later ones: it orders by the Ledger-Event-Id
// sequence). Success removes the dead letter; failure counts the attempt.
func (s *Service) Redeliver(ctx context.Context, id string, seq uint64) (webhook.Redelivery, error) {
	w, err := s.load(ctx, id)
	if err != nil {
		return webhook.Redelivery{}, err
	}
	key := deadLetterKey(id, seq)
	e, err := s.dead.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return webhook.Redelivery{}, webhook.ErrDeadLetterNotFound
	}
	if err != nil {
		return webhook.Redelivery{}, fmt.Errorf("dead letter %s: %w", key, err)
	}
	var dl webhook.DeadLetter
	if err := json.Unmarshal(e.Value(), &dl); err != nil {
		return webhook.Redelivery{}, fmt.Errorf("dead letter %s: %w", key, err)
	}
	dl.Attempts++
	derr := s.deliver(ctx, w, dl.Sequence, dl.Type, dl.Event)
	if derr == nil {
		if err := s.dead.Purge(context.WithoutCancel(ctx), key); err != nil {
			return webhook.Redelivery{}, fmt.Errorf("remove dead letter %s: %w", key, err)
		}
		s.log.Info("webhook dead letter redelivered", "webhook", id, "sequence", seq)
		return webhook.Redelivery{Sequence: dl.Sequence, Type: dl.Type, Status: "delivered", Attempts: dl.Attempts}, nil
	}
	var de *webhook.DeliveryError
	if !errors.As(derr, &de) {
		return webhook.Redelivery{}, derr
	}
	dl.Error, dl.FailedAt = de.Error(), time.Now().UTC()
	data, err := json.Marshal(dl)
	if err != nil {
		return webhook.Redelivery{}, err
	}
	if _, err := s.dead.Update(context.WithoutCancel(ctx), key, data, e.Revision()); err != nil {
		s.log.Warn("count a failed redelivery", "webhook", id, "sequence", seq, "err", err)
	}
	return webhook.Redelivery{}, derr
}
