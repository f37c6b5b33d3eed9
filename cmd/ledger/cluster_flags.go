package main

import (
	"flag"
	"strings"

	"github.com/nats-ledger/ledger/node"
)

// natsURLsMax bounds --nats-url: the seed servers of one cluster; the
// client learns the others from the first it reaches.
const natsURLsMax = 16

// addClusterFlags adds the flags of a node that runs against an external
// NATS (docs/operations.md, "Topologies"): the servers, the credentials
// and the roles.
func addClusterFlags(fs *flag.FlagSet, c *node.Config) {
	fs.Var((*urlsFlag)(&c.NATS.URLs), "nats-url", "connect to this external NATS server instead of starting the embedded one, e.g. nats://nats-1:4222; repeatable or comma-separated (env LEDGER_NATS_URL); empty: the embedded server")
	fs.StringVar(&c.NATS.CredsFile, "nats-creds", "", "external NATS: a credentials file (user JWT and NKey seed)")
	fs.StringVar(&c.NATS.User, "nats-user", "", "external NATS: user name")
	fs.StringVar(&c.NATS.Password, "nats-password", "", "external NATS: password; prefer the environment variable, a command line is visible to ps")
	fs.StringVar(&c.NATS.TLSCA, "nats-tls-ca", "", "external NATS: CA certificate (PEM) that verifies the servers")
	fs.StringVar(&c.NATS.TLSCert, "nats-tls-cert", "", "external NATS: client certificate (PEM) for mutual TLS, with --nats-tls-key")
	fs.StringVar(&c.NATS.TLSKey, "nats-tls-key", "", "external NATS: the client certificate's private key (PEM)")
	fs.IntVar(&c.Replicas, "replicas", 1, "copies of every stream, bucket and object store the ledger creates, 1 to 5; 3 on a NATS cluster (ADR 0025)")
	fs.BoolVar(&c.AllowR1, "allow-r1", false, "start with --replicas 1 although the NATS server is in a cluster: losing the one server holding the journal then loses it; for test clusters (env LEDGER_ALLOW_R1=true)")
	fs.Var((*rolesFlag)(&c.Roles), "role", "run only these roles: api, processor, projector; repeatable or comma-separated (env LEDGER_ROLE); default all three, which the embedded server requires; other sets need --nats-url (ADR 0025)")
}

// urlsFlag is --nats-url: URLs, one a flag or several separated by commas.
type urlsFlag []string

func (f *urlsFlag) String() string { return strings.Join(*f, ",") }

func (f *urlsFlag) Set(v string) error {
	for _, u := range strings.Split(v, ",") {
		if u = strings.TrimSpace(u); u == "" {
			return usagef("an empty NATS URL")
		}
		*f = append(*f, u)
	}
	if len(*f) > natsURLsMax {
		return usagef("at most %d NATS URLs", natsURLsMax)
	}
	return nil
}

// rolesFlag is --role: roles, one a flag or several separated by commas.
type rolesFlag node.Roles

func (f *rolesFlag) String() string {
	if len(*f) == 0 {
		return ""
	}
	return node.Roles(*f).String()
}

func (f *rolesFlag) Set(v string) error {
	rs, err := node.Roles(*f).Parse(v)
	if err != nil {
		return err
	}
	*f = rolesFlag(rs)
	return nil
}
