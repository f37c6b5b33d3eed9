package node

import (
	"os"
	"path/filepath"

	"github.com/nats-ledger/ledger/commands"
)

// processorServes reports whether the processor decides commands, or
// stands by while another instance holds the lease (ADR 0026): a node
// whose processor stands by serves, and its commands are decided by the
// active one.
func (n *Node) processorServes() bool {
	h := n.lease.Holder()
	return n.proc.Ready() || n.proc.Role() == commands.RoleStandby && h != "" && h != n.lease.ID()
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
