package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/nats-ledger/ledger/domain"
)

// ErrEmptyRecord means ApplyRecords was given a record with no events:
// every journal record holds at least one.
var ErrEmptyRecord = errors.New("journal record holds no events")

// Record is one journal record's events and its position in the journal.
type Record struct {
	Position uint64
	Events   []*domain.Event
	// Trace is the record's traceparent header (journalio.HeaderTrace),
	// for the projector's span; "" when it was written untraced.
	Trace string
}

// CheckRecords refuses records a journal never holds: one without events
// (ErrEmptyRecord) or with a nil event.
func CheckRecords(recs []Record) error {
	for _, r := range recs {
		if len(r.Events) == 0 {
			return fmt.Errorf("record at position %d: %w", r.Position, ErrEmptyRecord)
		}
		for i, ev := range r.Events {
			if ev == nil {
				return fmt.Errorf("record at position %d: event %d is nil: %w", r.Position, i, domain.ErrMissingPayload)
			}
		}
	}
	return nil
}

// ApplyRecords applies consecutive journal records in ONE Pebble batch
// that also advances the checkpoint, so the rows and the checkpoint are
// never out of step; one commit for many records is what lets the read
// models keep up with a busy journal. Events at or before the
// checkpoint's Seq are skipped, so applying a record again changes
// nothing. The first new event must follow the checkpoint exactly, and
// each new event the one before it: a gap returns an error wrapping
// domain.ErrSequenceGap. An event the read model cannot place (an unknown
// asset or account, a duplicate account or asset, an id posted twice in
// one call: a posting reads nothing, so one posted again in a later call
// is left to the audit) returns an error wrapping domain.ErrInconsistent
// or the store's error. On any error nothing of the records is applied.
func (s *Store) ApplyRecords(ctx context.Context, recs []Record) error {
	if err := CheckRecords(recs); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("apply records: %w", err)
	}
	cp, err := readCheckpoint(s.db)
	if err != nil {
		return err
	}
	next := cp
	a := newApplier(s)
	for _, r := range recs {
		if err := a.record(&next, r); err != nil {
			return err
		}
	}
	if next == cp {
		return nil // applied before: a redelivery
	}
	if err := a.checkAccounts(); err != nil {
		return fmt.Errorf("records up to %d: %w", next.Position, err)
	}
	_ = a.b.Set(keyCheckpoint, encodeCheckpoint(next), nil)
	if s.build != nil {
		if err := s.build.commit(a); err != nil {
			return fmt.Errorf("records up to %d: %w", next.Position, err)
		}
		s.remember(a.touched)
		s.advance(next.Seq, next.Position)
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := a.b.writeTo(b); err != nil {
		return fmt.Errorf("records up to %d: %w", next.Position, err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("records up to %d: commit: %w", next.Position, err)
	}
	s.remember(a.touched)
	s.advance(next.Seq, next.Position)
	return nil
}

// record applies one record's new events and advances next past it.
func (a *applier) record(next *Checkpoint, r Record) error { return ApplyInOrder(next, r, a.apply) }

// ApplyInOrder calls apply for each of r's events after next, in order,
// and advances next past them: events at or before next.Seq are skipped
// (a record applied again changes nothing), the first new one must follow
// next.Seq and each the one before it (else an error wrapping
// domain.ErrSequenceGap), and a record at or before next.Position with new
// events is domain.ErrInconsistent.
func ApplyInOrder(next *Checkpoint, r Record, apply func(*domain.Event) error) error {
	position, fresh := r.Position, r.Events
	for len(fresh) > 0 && fresh[0].Seq <= next.Seq {
		fresh = fresh[1:]
	}
	if len(fresh) > 0 && position <= next.Position {
		return fmt.Errorf("record at position %d brings sequence %d but position %d was applied: %w",
			position, fresh[0].Seq, next.Position, domain.ErrInconsistent)
	}
	next.Position = max(next.Position, position)
	for _, ev := range fresh {
		if ev.Seq != next.Seq+1 {
			return fmt.Errorf("record %d: event %d follows %d: %w", position, ev.Seq, next.Seq, domain.ErrSequenceGap)
		}
		if ev.Seq > math.MaxInt64 {
			return fmt.Errorf("record %d: sequence %d beyond the cursors' range: %w", position, ev.Seq, domain.ErrInconsistent)
		}
		if err := apply(ev); err != nil {
			return fmt.Errorf("record %d: event %d (%s): %w", position, ev.Seq, ev.Type, err)
		}
		next.Seq = ev.Seq
	}
	return nil
}

// accountKey names an account row: the issuer account has one per asset.
type accountKey struct{ id, asset string }

// applier applies the events of one call in one batch. Reads go to what
// this batch wrote first (the maps, bounded by the batch's events), then
// to the committed store, which nothing else writes meanwhile (writeMu).
type applier struct {
	s       *Store
	b       *sortedBatch
	touched map[accountKey]struct{} // the accounts the batch's entries name
	// Rows this batch wrote: transfers by id, accounts, assets.
	transfers map[string]*transferRow
	accounts  map[accountKey]*accountRow
	ids       map[string]string // non-world account id -> its asset
	assets    map[string]assetRow
	lastAt    int64 // the clock's latest time, loaded on first use
	clockSet  bool
	buf       []byte // scratch for values: Batch.Set copies them
	// holds is what this batch wrote of holds (holds.go), made on first use.
	holds *holdCache
}

func newApplier(s *Store) *applier {
	a := &applier{s: s, b: &sortedBatch{}, touched: make(map[accountKey]struct{}),
		transfers: make(map[string]*transferRow), accounts: make(map[accountKey]*accountRow),
		ids: make(map[string]string), assets: make(map[string]assetRow)}
	if s.build != nil { // a bulk build's clock is not in the store until it ends
		a.lastAt, a.clockSet = s.build.lastAt, true
		a.b = s.build.batch()
	}
	return a
}

func (a *applier) apply(ev *domain.Event) error {
	if err := a.tick(ev); err != nil {
		return err
	}
	return ev.Dispatch(a)
}

var _ domain.EventHandler = (*applier)(nil)

// CommandSkipped changes no read model: the checkpoint and the clock
// advance.
func (a *applier) CommandSkipped(*domain.Event, *domain.SkippedCommand) error { return nil }

// tick records the event's time in the clock. A clock that steps back
// (a failover to a host whose clock is behind) is clamped to the latest
// time seen, so the clock stays monotonic and "the latest sequence at or
// before time T" is well defined: a row is added only where time advances.
func (a *applier) tick(ev *domain.Event) error {
	if !a.clockSet {
		at, ok, err := lastClock(a.s.db)
		if err != nil {
			return fmt.Errorf("clock: %w", err)
		}
		a.lastAt = math.MinInt64
		if ok {
			a.lastAt = at
		}
		a.clockSet = true
	}
	at := ev.Time.UnixNano()
	if at <= a.lastAt {
		return nil
	}
	_ = a.b.Set(clockKey(at), appendSeq(nil, ev.Seq), nil)
	a.lastAt = at
	return nil
}

// encodeMetadata returns the metadata as JSON (keys sorted), or "" for
// none.
func encodeMetadata(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("metadata: %w", err)
	}
	return string(b), nil
}

func decodeMetadata(s string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("stored metadata: %w", err)
	}
	return m, nil
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
