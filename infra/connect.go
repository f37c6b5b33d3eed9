package infra

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// ClientConfig says how to reach an external NATS server or cluster: the
// deployments that run the ledger's roles as separate processes
// (docs/operations.md, "Topologies").
type ClientConfig struct {
	// URLs are the servers to try, e.g. nats://nats-1:4222; the client
	// learns the rest of a cluster from the one it reaches.
	URLs []string
	// CredsFile is a NATS credentials file (a user JWT and its NKey seed).
	CredsFile string
	// User and Password authenticate with a user name and password.
	User, Password string
	// TLSCA verifies the servers' certificates; TLSCert and TLSKey, both
	// or neither, are this client's certificate for mutual TLS.
	TLSCA, TLSCert, TLSKey string
	// Name is the connection's name in the server's monitoring.
	Name string
}

// connectTimeout bounds the first connection to an external server: a
// node that cannot reach NATS at start says so rather than wait forever.
// Once connected, the client reconnects without limit.
const connectTimeout = 10 * time.Second

// Check reports a configuration that cannot work, before connecting.
func (c ClientConfig) Check() error {
	switch {
	case len(c.URLs) == 0:
		return errors.New("nats: no server URL")
	case c.CredsFile != "" && c.User != "":
		return errors.New("nats: a credentials file or a user and password, not both")
	case c.User != "" && c.Password == "", c.User == "" && c.Password != "":
		return errors.New("nats: a user needs a password, and a password a user")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return errors.New("nats: a TLS client certificate needs its key, and a key its certificate")
	}
	for _, u := range c.URLs {
		if strings.TrimSpace(u) == "" || strings.Contains(u, ",") {
			return fmt.Errorf("nats: server URL %q: one URL each", u)
		}
	}
	return nil
}

// Connect connects to the external server and returns the connection and
// a cleanup that drains it.
func Connect(c ClientConfig) (*nats.Conn, func(), error) {
	if err := c.Check(); err != nil {
		return nil, nil, err
	}
	name := c.Name
	if name == "" {
		name = "ledger"
	}
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.Timeout(connectTimeout)}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.TLSCA != "" {
		opts = append(opts, nats.RootCAs(c.TLSCA))
	}
	if c.TLSCert != "" {
		opts = append(opts, nats.ClientCert(c.TLSCert, c.TLSKey))
	}
	nc, err := nats.Connect(strings.Join(c.URLs, ","), opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to nats %s: %w", strings.Join(c.URLs, ","), err)
	}
	cleanup := func() {
		_ = nc.Drain()
		for i := 0; i < 100 && !nc.IsClosed(); i++ {
			time.Sleep(10 * time.Millisecond) // the drain's end is not signalled otherwise
		}
		nc.Close()
	}
	return nc, cleanup, nil
}
