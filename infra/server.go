package infra

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/nats-ledger/ledger/journalio"
)

// ServerConfig configures the embedded NATS server.
type ServerConfig struct {
	// DataDir is the ledger's data directory; JetStream stores under
	// DataDir/jetstream.
	DataDir string
	// ListenAddr, when not empty, makes the server accept client
	// connections there (host:port, or a port alone for loopback) so that
	// the nats CLI can inspect the streams. Empty means no network
	// listener at all.
	ListenAddr string
	// SyncAlways fsyncs every JetStream write before acknowledging it.
	SyncAlways bool
	// User and Password, when set, are required of every client, the
	// in-process one included. A listener must not run without them. This
	// user may do anything: it is the ledger's own.
	User, Password string
	// ReaderUser and ReaderPassword, when set (with User), add a second
	// user for event consumers that may only read the journal of Ledger
	// and run its own consumers on it (ReaderPermissions).
	ReaderUser, ReaderPassword string
	// Ledger names the journal ReaderUser may read.
	Ledger string
}

// maxPayloadBytes bounds one NATS message. A journal record of 1,000
// transfers is about 600 KB; 8 MiB leaves room and still bounds memory.
const maxPayloadBytes = 8 << 20

// serverReadyTimeout bounds how long start-up waits for the server.
const serverReadyTimeout = 30 * time.Second

// StartServer starts an embedded NATS server with JetStream and returns it
// with a connection to it and a cleanup that closes both.
func StartServer(cfg ServerConfig) (*server.Server, *nats.Conn, func(), error) {
	opts := &server.Options{
		ServerName:         "ledger",
		JetStream:          true,
		StoreDir:           filepath.Join(cfg.DataDir, "jetstream"),
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         maxPayloadBytes,
		SyncAlways:         cfg.SyncAlways,
		JetStreamMaxMemory: 256 << 20,
	}
	if cfg.User != "" {
		opts.Users = []*server.User{{Username: cfg.User, Password: cfg.Password}}
		if cfg.ReaderUser != "" {
			if cfg.ReaderPassword == "" || cfg.Ledger == "" {
				return nil, nil, nil, errors.New("nats reader user: needs a password and the ledger's name")
			}
			opts.Users = append(opts.Users, &server.User{Username: cfg.ReaderUser, Password: cfg.ReaderPassword,
				Permissions: ReaderPermissions(journalio.NamesFor(cfg.Ledger))})
		}
	}
	if cfg.ListenAddr == "" {
		opts.DontListen = true
	} else {
		if cfg.User == "" || cfg.Password == "" {
			return nil, nil, nil, errors.New("nats listener: refusing to listen without credentials")
		}
		host, portStr, err := net.SplitHostPort(cfg.ListenAddr)
		if err != nil { // a bare port
			host, portStr = "", cfg.ListenAddr
		}
		if host == "" {
			// Loopback unless an interface is named: the journal is not
			// for the network to read by accident.
			host = "127.0.0.1"
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("nats listen port %q: %w", portStr, err)
		}
		opts.Host, opts.Port = host, port
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("nats server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(serverReadyTimeout) {
		srv.Shutdown()
		return nil, nil, nil, errors.New("nats server: not ready in time")
	}
	connOpts := []nats.Option{nats.InProcessServer(srv), nats.Name("ledger"), nats.MaxReconnects(-1)}
	if cfg.User != "" {
		connOpts = append(connOpts, nats.UserInfo(cfg.User, cfg.Password))
	}
	nc, err := nats.Connect("", connOpts...)
	if err != nil {
		srv.Shutdown()
		return nil, nil, nil, fmt.Errorf("connect to embedded nats: %w", err)
	}
	cleanup := func() {
		_ = nc.Drain()
		for i := 0; i < 100 && !nc.IsClosed(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		srv.Shutdown()
		srv.WaitForShutdown()
	}
	return srv, nc, cleanup, nil
}
