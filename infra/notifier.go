package infra

import (
	"github.com/nats-io/nats.go"

	"github.com/nats-ledger/ledger/commands"
)

// Notifier sends the processor's replies over core NATS.
type Notifier struct{ nc *nats.Conn }

var _ commands.Notifier = Notifier{}

// NewNotifier returns a notifier on nc.
func NewNotifier(nc *nats.Conn) Notifier { return Notifier{nc: nc} }

// Notify publishes reply on subject.
func (n Notifier) Notify(subject string, reply []byte) error { return n.nc.Publish(subject, reply) }
