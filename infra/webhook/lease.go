package webhook

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/subscriber"
)

// Delivery has one owner in a cluster (ADR 0025). With Config.Exclusive,
// the services of a ledger (one per API node) contend for a lease, a key
// in a KV bucket whose entries expire: the one that holds it runs every
// webhook's delivery and renews it; the others serve the registry only.
// When the owner stops, it gives the lease up; when it dies or is cut
// off, the lease expires, and another takes it and starts the deliveries
// from their durable consumers, where the owner left them.
//
// Failure mode: an owner paused for longer than the lease, then resumed,
// delivers until its next renewal fails (at most leaseRenewEvery), while
// the new owner delivers too. Both pull from the same durable consumers,
// so each event still goes to one of them at a time, but their order may
// interleave and a delivery in flight may be repeated: webhooks are at
// least once, and receivers already de-duplicate by event id.

// Lease timings: the owner renews every leaseRenewEvery; a lease not
// renewed for leaseTTL expires. A dead owner's webhooks wait at most
// leaseTTL+leaseRenewEvery for another owner.
const (
	leaseTTL          = 10 * time.Second
	leaseRenewEvery   = 2 * time.Second
	leaseRequestLimit = 2 * time.Second // one KV request
	leaseKey          = "owner"
)

func leaseBucket(ledger string) string { return "WEBHOOK_LEASE_" + ledger }

// lease is this service's claim on the delivery lease.
type lease struct {
	kv  jetstream.KeyValue
	id  string // this service's, in the key's value
	rev uint64 // the key's revision while held; 0 otherwise
}

func openLease(ctx context.Context, js jetstream.JetStream, ledger string, replicas int) (*lease, error) {
	r, err := infra.KVReplicas(ctx, js, leaseBucket(ledger), replicas)
	if err != nil {
		return nil, err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      leaseBucket(ledger),
		Description: "the owner of webhook delivery of ledger " + ledger,
		History:     1,
		TTL:         leaseTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    r,
	})
	if err != nil {
		return nil, err
	}
	return &lease{kv: kv, id: nuid.Next()}, nil
}

// hold renews the lease, or takes it if it is free, and reports whether
// this service holds it. A renewal that fails is checked against the key:
// only a key that still names this service is still held. Whatever cannot
// be proved held is not: two owners are worse than none for a moment.
func (l *lease) hold(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, leaseRequestLimit)
	defer cancel()
	if l.rev != 0 {
		rev, err := l.kv.Update(ctx, leaseKey, []byte(l.id), l.rev)
		if err == nil {
			l.rev = rev
			return true
		}
		l.rev = 0
		if e, err := l.kv.Get(ctx, leaseKey); err == nil && string(e.Value()) == l.id {
			if rev, err := l.kv.Update(ctx, leaseKey, []byte(l.id), e.Revision()); err == nil {
				l.rev = rev
				return true
			}
		}
	}
	rev, err := l.kv.Create(ctx, leaseKey, []byte(l.id))
	if err != nil {
		return false
	}
	l.rev = rev
	return true
}

// release gives the lease up, if held, so another service takes it at
// its next renewal rather than after leaseTTL.
func (l *lease) release() {
	if l.rev == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), leaseRequestLimit)
	defer cancel()
	_ = l.kv.Delete(ctx, leaseKey, jetstream.LastRevision(l.rev))
	l.rev = 0
}

// renewLoop renews the lease every leaseRenewEvery until ctx ends.
func (s *Service) renewLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(leaseRenewEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.renew(ctx)
	}
}

// renew holds the lease and starts or stops the deliveries accordingly.
func (s *Service) renew(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	held := s.lease.hold(ctx)
	switch {
	case held && !s.owner:
		s.log.Info("webhook delivery: this node owns it now")
	case !held && s.owner:
		s.log.Warn("webhook delivery: lost the lease; another node delivers")
		s.stopRunners()
	}
	s.owner = held
	if held {
		if err := s.reconcile(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("webhook delivery: reading the webhooks", "err", err)
		}
	}
}

// reconcile runs a delivery for every stored webhook and none for a
// deleted one: webhooks created and deleted through other nodes. A
// deleted webhook's runner may have made its consumer again before it
// stopped; reconcile removes it. Called with s.mu held, by the owner.
func (s *Service) reconcile(ctx context.Context) error {
	all, err := s.loadAll(ctx)
	if err != nil {
		return err
	}
	keep := make(map[string]bool, len(all))
	for _, w := range all {
		keep[w.ID] = true
		if s.runners[w.ID] == nil {
			s.runners[w.ID] = s.run(w)
		}
	}
	for id, r := range s.runners {
		if keep[id] {
			continue
		}
		r.stop()
		delete(s.runners, id)
		err := s.js.DeleteConsumer(ctx, subscriber.JournalStream(s.ledger), consumerName(id))
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return err
		}
	}
	return nil
}

// stopRunners stops every delivery. Called with s.mu held.
func (s *Service) stopRunners() {
	for id, r := range s.runners {
		r.stop()
		delete(s.runners, id)
	}
}

// Delivers reports whether this service runs the deliveries: always
// without Config.Exclusive, and while it holds the lease with it.
func (s *Service) Delivers() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lease == nil || s.owner
}
