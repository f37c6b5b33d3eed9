package api

import (
	"context"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// pendingSet remembers ids answered 202 so that GET can say "pending"
// until the read model has them. It holds at most max ids, forgetting the
// oldest first; a forgotten id reads as not found until it is decided.
type pendingSet struct {
	mu    sync.Mutex
	max   int
	ids   map[string]struct{}
	order []string // ring of insertion order
	next  int
}

func newPendingSet(max int) *pendingSet {
	return &pendingSet{max: max, ids: make(map[string]struct{}, 1024)}
}

func (p *pendingSet) add(id string) {
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
	p.ids[id] = struct{}{}
}

func (p *pendingSet) has(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.ids[id]
	return ok
}

func contextWithTimeout(c echo.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), d)
}
