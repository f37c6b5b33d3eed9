package api

import (
	"context"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// pendingSet remembers ids answered 202, and who submitted them, so that
// GET can tell that principal "pending" until the read model has them. It
// holds at most max ids, forgetting the oldest first; a forgotten id reads
// as not found until it is decided.
type pendingSet struct {
	mu    sync.Mutex
	max   int
	ids   map[string]string // id -> subject
	order []string          // ring of insertion order
	next  int
}

func newPendingSet(max int) *pendingSet {
	return &pendingSet{max: max, ids: make(map[string]string, 1024)}
}

func (p *pendingSet) add(id string, by Principal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.ids[id]; ok {
		return
	}
	if len(p.order) < p.max {
		p.order = append(p.order, id)
	} else {
		delete(p.ids, p.order[p.next])
		p.order[p.next] = id
		p.next = (p.next + 1) % p.max
	}
	p.ids[id] = by.Subject
}

// has reports whether id is pending and visible to who: its submitter or
// an admin.
func (p *pendingSet) has(id string, who Principal) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	sub, ok := p.ids[id]
	return ok && (who.Admin() || sub == who.Subject)
}

func contextWithTimeout(c echo.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), d)
}
