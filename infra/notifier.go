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
// straight to it, as values, without encoding them or a round trip through
// the NATS server, and sends the others over core NATS (ADR 0015).
type LocalNotifier struct {
	remote Notifier
	local  *Submitter
}

var (
	_ commands.Notifier     = LocalNotifier{}
	_ commands.LocalReplier = LocalNotifier{}
)

// NewLocalNotifier returns a notifier on nc that answers local in memory.
func NewLocalNotifier(nc *nats.Conn, local *Submitter) LocalNotifier {
	return LocalNotifier{remote: NewNotifier(nc), local: local}
}

// Notify publishes reply on subject, or delivers it to the local
// submitter when subject is its own.
func (n LocalNotifier) Notify(subject string, reply []byte) error {
	if subject == n.local.reply {
		n.local.route(&nats.Msg{Subject: subject, Data: reply})
		return nil
	}
	return n.remote.Notify(subject, reply)
}

// DeliverLocal hands r to the local submitter when subject is its own. It
// never blocks.
func (n LocalNotifier) DeliverLocal(subject string, r commands.Reply) bool {
	if subject != n.local.reply {
		return false
	}
	n.local.dispatch(r)
	return true
}
