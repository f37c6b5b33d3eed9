package subscriber

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// Delivery: records from a session, split into events, handed out one at
// a time, the record acknowledged once all its events are handled.

// skipFromMetadata arms the skip filter from a consumer's start metadata.
func (s *Subscriber) skipFromMetadata(md map[string]string) {
	s.skip = skipFilter{}
	if v, err := strconv.ParseUint(md[consumerMetaStartSeq], 10, 64); err == nil {
		s.skip.seq = v
	}
	if v, err := time.Parse(time.RFC3339Nano, md[consumerMetaStartTime]); err == nil {
		s.skip.at = v
	}
}

// wanted applies the skip filter to the next event in ledger order.
func (s *Subscriber) wanted(ev Event) bool {
	if ev.Seq < s.skip.seq {
		return false
	}
	if !s.skip.at.IsZero() && !s.skip.reached {
		if ev.Event.Time.Before(s.skip.at) {
			return false
		}
		s.skip.reached = true
	}
	return true
}

// follow delivers records from first and from the sessions that replace
// it after a transient error, until ctx ends (nil), deliver fails (its
// error) or a record is malformed.
func (s *Subscriber) follow(ctx context.Context, first *session, deliver func(context.Context, Event) error) error {
	backoff := resubscribeBackoffMin
	sess := first
	for {
		var err error
		if sess == nil {
			sess, err = s.open(ctx)
		}
		if sess != nil {
			var progressed bool
			progressed, err = s.forward(ctx, sess, deliver)
			s.close(sess)
			sess = nil
			if progressed {
				backoff = resubscribeBackoffMin
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		var he *handlerError
		if errors.As(err, &he) {
			return he.err
		}
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrGap) || errors.Is(err, ErrConfig) {
			return err
		}
		s.log.Warn("journal subscription resubscribing", "err", err, "backoff", backoff, "position", s.nextPos)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, resubscribeBackoffMax)
	}
}

// errSubscriptionEnded means watermill closed the session's channel.
var errSubscriptionEnded = errors.New("journal subscription ended")

// forward hands the session's records to deliver, event by event, and
// acknowledges each record once all its events are delivered. It reports
// whether any record was acknowledged.
func (s *Subscriber) forward(ctx context.Context, sess *session, deliver func(context.Context, Event) error) (progressed bool, err error) {
	for {
		var m *message.Message
		var ok bool
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case err := <-sess.errs:
			return progressed, err
		case m, ok = <-sess.Records():
			if !ok {
				return progressed, errSubscriptionEnded
			}
		}
		rec, jm, err := sess.take(m)
		if err == nil {
			stop := keepInProgress(jm)
			err = s.deliverRecord(ctx, rec, deliver)
			stop()
		}
		if err != nil {
			m.Nack() // release watermill's handler; the session ends
			return progressed, err
		}
		m.Ack()
		s.nextPos = rec.position + 1
		progressed = true
	}
}

// deliverRecord delivers the record's events that are new and wanted.
func (s *Subscriber) deliverRecord(ctx context.Context, rec record, deliver func(context.Context, Event) error) error {
	for _, ev := range rec.events {
		if ev.Seq <= s.lastSeq || !s.wanted(ev) {
			continue
		}
		if len(s.filters) == 0 && s.lastSeq != 0 && ev.Seq != s.lastSeq+1 {
			return fmt.Errorf("%w: sequence %d after %d (record %d)", ErrGap, ev.Seq, s.lastSeq, rec.position)
		}
		if err := deliver(ctx, ev); err != nil {
			return err
		}
		s.lastSeq = ev.Seq
	}
	return nil
}

// keepInProgress tells the server every inProgressInterval that the
// record of jm is still being handled, until the returned stop is called
// (it waits for the ticker's goroutine to end).
func keepInProgress(jm jetstream.Msg) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(inProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = jm.InProgress()
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}
