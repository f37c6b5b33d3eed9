package node

import (
	"os"
	"path/filepath"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
)

// electedDecisions is what a processor node knows of the decisions: its
// own processor's while it is active, and the active one's, followed
// through JetStream as on a node without a processor, while it stands by
// (ADR 0026). A standby node is ready when another processor decides.
type electedDecisions struct {
	proc   *commands.Processor
	follow *remoteDecisions
}

var _ decisions = electedDecisions{}

func (d electedDecisions) Seq() uint64     { return max(d.proc.Seq(), d.follow.Seq()) }
func (d electedDecisions) Decided() uint64 { return max(d.proc.Decided(), d.follow.Decided()) }

func (d electedDecisions) Ready() bool {
	return d.proc.Ready() || d.proc.Role() == commands.RoleStandby && d.follow.Ready()
}

// Head is the processor's, with its hash, unless the journal followed is
// further on.
func (d electedDecisions) Head() commands.Head {
	if h := d.proc.Head(); d.proc.Role() == commands.RoleActive || h.Seq >= d.follow.Seq() {
		return h
	}
	return d.follow.Head()
}

// processorStatus is GET /v1/status's processor: ready, and on a
// processor node its role, its name and the lease's holder.
func (n *Node) processorStatus() api.ProcessorStatus {
	s := api.ProcessorStatus{Ready: n.dec.Ready()}
	if n.proc != nil {
		s.Role, s.Instance, s.LeaseHolder = n.proc.Role().String(), n.lease.ID(), n.lease.Holder()
	}
	return s
}

// processorID is cfg.ProcessorID, or the host name and the data
// directory.
func processorID(cfg Config) string {
	if cfg.ProcessorID != "" {
		return cfg.ProcessorID
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		dir = cfg.DataDir
	}
	return host + ":" + dir
}
