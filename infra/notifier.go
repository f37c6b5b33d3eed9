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

// LocalNotifier hands the replies meant for the submitter of this process
// straight to it, without a round trip through the NATS server, and sends
// the others over core NATS (ADR 0015).
type LocalNotifier struct {
	remote Notifier
	local  *Submitter
}

var _ commands.Notifier = LocalNotifier{}

// NewLocalNotifier returns a notifier on nc that answers local in memory.
func NewLocalNotifier(nc *nats.Conn, local *Submitter) LocalNotifier {
	return LocalNotifier{remote: NewNotifier(nc), local: local}
}

// Notify delivers reply to the local submitter when subject is its own,
// else publishes it. Delivering never blocks: the waiting request takes
// its outcome from a buffered channel.
func (n LocalNotifier) Notify(subject string, reply []byte) error {
	if subject == n.local.reply {
		n.local.route(&nats.Msg{Subject: subject, Data: reply})
		return nil
	}
	return n.remote.Notify(subject, reply)
}
