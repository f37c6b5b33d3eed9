package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/auth"
)

// external reports whether the node connects to an external NATS rather
// than embedding its own server.
func (cfg Config) external() bool { return len(cfg.NATS.URLs) > 0 }

// checkRoles refuses a configuration whose roles cannot work.
func (cfg Config) checkRoles() error {
	if !cfg.Roles.All() && !cfg.external() {
		return fmt.Errorf("roles %s need an external NATS (--nats-url): the embedded server runs every role in one process", cfg.Roles)
	}
	if cfg.external() && cfg.NATSListen != "" {
		return errors.New("--nats-listen serves the embedded NATS server; with an external one (--nats-url), connect to that")
	}
	if cfg.external() && cfg.SyncAlways {
		// Said rather than ignored: an operator who asked for it must not
		// believe every acknowledgement is on disk when it is not.
		return errors.New("--sync-always configures the embedded NATS server; an external server fsyncs every write with sync_interval: always in its own configuration (docs/operations.md)")
	}
	return nil
}

// startNATS connects to the external NATS, or starts the embedded server
// (with its users when it listens on the network) and connects to it;
// then it creates the streams.
func (n *Node) startNATS(ctx context.Context, cfg Config) error {
	if cfg.external() {
		c := cfg.NATS
		if c.Name == "" {
			c.Name = "ledger " + cfg.Roles.String()
		}
		nc, stop, err := infra.Connect(c)
		if err != nil {
			return err
		}
		n.cleanups = append(n.cleanups, stop)
		n.NC = nc
	} else if err := n.startEmbedded(cfg); err != nil {
		return err
	}
	if err := infra.CheckCluster(n.NC, n.replicas, cfg.AllowR1); err != nil {
		return err
	}
	var err error
	if n.JS, err = jetstream.New(n.NC); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	return infra.EnsureStreamsReplicas(ctx, n.JS, n.Names, n.replicas)
}

// Replicas is the replica count of the streams and buckets the node
// creates, for the adapters' buckets (cmd/ledger).
func (n *Node) Replicas() int { return n.replicas }

// startEmbedded starts the embedded NATS server on the data directory.
func (n *Node) startEmbedded(cfg Config) error {
	serverCfg := infra.ServerConfig{DataDir: cfg.DataDir, ListenAddr: cfg.NATSListen, SyncAlways: cfg.SyncAlways}
	if cfg.NATSListen != "" {
		pw, _, err := auth.LoadOrCreateSecret(auth.NATSPasswordFile(cfg.DataDir))
		if err != nil {
			return err
		}
		serverCfg.User, serverCfg.Password = auth.NATSUser, pw
		readerPW, _, err := auth.LoadOrCreateSecret(auth.NATSReaderPasswordFile(cfg.DataDir))
		if err != nil {
			return err
		}
		serverCfg.ReaderUser, serverCfg.ReaderPassword, serverCfg.Ledger = auth.NATSReaderUser, readerPW, cfg.Ledger
	}
	_, nc, stopNATS, err := infra.StartServer(serverCfg)
	if err != nil {
		return err
	}
	n.cleanups = append(n.cleanups, stopNATS)
	n.NC = nc
	return nil
}
