package node

import (
	"net/http"
	"sync"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/infra/metrics"
	"github.com/nats-ledger/ledger/infra/webhook"
)

// newMetrics makes the node's registry (its own, so that several nodes in
// one process do not collide) and registers the gauges read from what the
// node already keeps, at each scrape, rather than counted a second time:
// the positions GET /v1/status reports, the commands admission counts in
// flight, and the appends the read model has not applied yet. Each role
// registers the gauges of what it keeps.
func (n *Node) newMetrics() *metrics.Metrics {
	m := metrics.New()
	n.metrics = m
	m.GaugeFunc("journal_sequence", "The last ledger sequence in the journal, as GET /v1/status reports it.",
		func() float64 { return float64(n.journalSeq()) })
	// Read from memory at every scrape: GET /readyz also asks the server
	// for the journal stream, which a scrape must not wait on.
	m.GaugeFunc("ready", "1 when the node can serve as far as it knows in memory (connected to NATS, processor and projector running, restored, read model within the admission bound), 0 otherwise; GET /readyz also checks that the journal stream answers.", func() float64 {
		if !n.readyInMemory() {
			return 0
		}
		return 1
	})
	if n.roles.runsProjector() {
		n.readModelMetrics(m)
	}
	if n.roles.Has(RoleAPI) {
		m.GaugeFunc("commands_in_flight", "Command items admitted by the API and not yet answered (decided, or 202).",
			func() float64 { return float64(n.Core.InFlight()) })
		m.GaugeFunc("webhook_delivery_owner", "1 when this node delivers the ledger's webhooks (on an external NATS, the one API node holding the delivery lease), 0 otherwise.",
			func() float64 {
				if n.DeliversWebhooks() {
					return 1
				}
				return 0
			})
	}
	if n.roles.Has(RoleProcessor) {
		n.journal.onAppend = m.Append
		m.GaugeFunc("snapshot_age_seconds", "Seconds since this node last saved a processor snapshot, or since it started if it has saved none.",
			func() float64 { return time.Since(n.lastSnapshot()).Seconds() })
		m.GaugeFunc("processor_hot_ids", "Posted transfer ids the processor holds in memory; past --hot-ids the oldest move to the archive in postedids/ (ADR 0027).",
			func() float64 {
				if n.proc == nil {
					return 0
				}
				return float64(n.proc.HotIDs())
			})
		m.GaugeFunc("processor_active", "1 when this node's processor holds the lease and decides commands, 0 while it stands by or rebuilds (ADR 0026).",
			func() float64 {
				if n.proc != nil && n.proc.Role() == commands.RoleActive {
					return 1
				}
				return 0
			})
	}
	return m
}

// readModelMetrics registers the read model's gauges.
func (n *Node) readModelMetrics(m *metrics.Metrics) {
	m.GaugeFunc("read_model_sequence", "The last ledger sequence the read model applied, as GET /v1/status reports it.",
		func() float64 { return float64(n.Store.Applied().Seq) })
	m.GaugeFunc("read_model_lag_events", "Events in the journal the read model has not applied (GET /v1/status read_model.behind).",
		func() float64 {
			head, applied := n.journalSeq(), n.Store.Applied().Seq
			return float64(head - min(head, applied))
		})
	if n.journal != nil {
		// Only the node that appends knows when each position was stored.
		m.GaugeFunc("read_model_lag_seconds", "Age of the oldest journal append of this node the read model has not applied; 0 when caught up.",
			func() float64 { return n.journal.appended.lag(n.Store.Applied().Position, time.Now()).Seconds() })
	}
}

// DeliversWebhooks reports whether this node delivers the ledger's
// webhooks: an API node alone on its ledger always does; among the API
// nodes on an external NATS, the one holding the delivery lease does.
func (n *Node) DeliversWebhooks() bool { return n.hooks != nil && n.hooks.Delivers() }

// MetricsHandler serves the node's metrics in the Prometheus text format,
// for a listener of their own (ledger serve --metrics-addr); Handler also
// serves them at /metrics.
func (n *Node) MetricsHandler() http.Handler { return n.metrics.Handler() }

// snapshotObserver notes when the processor last saved a snapshot, for
// the snapshot_age_seconds gauge, and passes it on.
type snapshotObserver struct {
	*metrics.Metrics
	mu   sync.Mutex
	last time.Time
}

func (o *snapshotObserver) Snapshot(elapsed time.Duration, at time.Time) {
	o.mu.Lock()
	o.last = at
	o.mu.Unlock()
	o.Metrics.Snapshot(elapsed, at)
}

func (n *Node) lastSnapshot() time.Time {
	n.snapObs.mu.Lock()
	defer n.snapObs.mu.Unlock()
	return n.snapObs.last
}

// appendTimesMax bounds the appends remembered for the lag in seconds.
// Past it the oldest are forgotten and the gauge reads low; by then the
// read model is thousands of appends behind, which read_model_lag_events
// shows, and admission (MaxReadLag) holds writes back long before.
const appendTimesMax = 4096

// appendTimes remembers when the journal positions this node appended
// were stored, oldest first, until the read model applies them.
type appendTimes struct {
	mu  sync.Mutex
	pos []uint64
	at  []time.Time
}

// note remembers that position pos was stored at at.
func (a *appendTimes) note(pos uint64, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.pos) >= appendTimesMax {
		a.pos, a.at = a.pos[1:], a.at[1:]
	}
	a.pos, a.at = append(a.pos, pos), append(a.at, at)
}

// lag forgets the appends at or before applied and returns the age of the
// oldest one left (0 when none is).
func (a *appendTimes) lag(applied uint64, now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := 0
	for i < len(a.pos) && a.pos[i] <= applied {
		i++
	}
	a.pos, a.at = a.pos[i:], a.at[i:]
	if len(a.pos) == 0 {
		return 0
	}
	return now.Sub(a.at[0])
}

// The node's metrics are what the API and webhook delivery report to.
var (
	_ api.Observer     = (*metrics.Metrics)(nil)
	_ webhook.Observer = (*metrics.Metrics)(nil)
)
