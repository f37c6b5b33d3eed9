package api

import (
	"context"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
)

// pendingSet remembers ids answered 202, who submitted them and the
// fingerprint of each submitter's body, so that GET can tell that
// principal "pending" until the read model has the id, and "conflict"
// once the id is decided with another body. It holds at most max ids,
// forgetting the oldest first; a forgotten id reads as not found until it
// is decided.
type pendingSet struct {
	mu    sync.Mutex
	max   int
	ids   map[string][]pendingEntry // id -> its submitters, at most pendingSubmittersMax
	order []string                  // ring of insertion order
	next  int
}

// pendingEntry is one principal's submission of an id.
type pendingEntry struct {
	subject string
	body    domain.BodyFingerprint
}

// pendingSubmittersMax bounds the submitters remembered per id: past it
// the latest replaces the last one kept. Different principals reusing one
// id are rare (it is a conflict for all but one of them); the bound keeps
// a client that hammers one id from growing the set.
const pendingSubmittersMax = 4

func newPendingSet(max int) *pendingSet {
	return &pendingSet{max: max, ids: make(map[string][]pendingEntry, 1024)}
}

// add remembers that by submitted id with a body of fingerprint body; a
// later submission by the same principal replaces its earlier one.
func (p *pendingSet) add(id string, by Principal, body domain.BodyFingerprint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := pendingEntry{subject: by.Subject, body: body}
	if entries, ok := p.ids[id]; ok {
		for i := range entries {
			if entries[i].subject == by.Subject {
				entries[i] = e
				return
			}
		}
		if len(entries) < pendingSubmittersMax {
			p.ids[id] = append(entries, e)
		} else {
			entries[len(entries)-1] = e
		}
		return
	}
	if len(p.order) < p.max {
		p.order = append(p.order, id)
	} else {
		delete(p.ids, p.order[p.next])
		p.order[p.next] = id
		p.next = (p.next + 1) % p.max
	}
	p.ids[id] = []pendingEntry{e}
}

// lookup reports whether id is pending and visible to who (its submitter
// or an admin), and, if who submitted it, the fingerprint of who's body.
func (p *pendingSet) lookup(id string, who Principal) (visible bool, own *domain.BodyFingerprint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.ids[id] {
		if e.subject == who.Subject {
			body := e.body
			return true, &body
		}
		visible = visible || who.Admin()
	}
	return visible, nil
}

func contextWithTimeout(c echo.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), d)
}
