package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/journalio"
)

// Target says where a journal is. Exactly one of File, NATSURL and DataDir
// names the journal; with NATSURL, DataDir may be set too and then only
// locates files (the read model, the replay's output).
type Target struct {
	// DataDir is a stopped ledger's data directory: it is locked (so no
	// ledger starts on it meanwhile) and its JetStream store is opened by
	// an embedded server with no network listener.
	DataDir string
	// NATSURL is a running ledger's NATS listener, with its credentials.
	NATSURL, NATSUser, NATSPassword string
	// File is an export (JSON Lines); "-" is the standard input.
	File string
	// Ledger is the ledger's name ("default" when empty).
	Ledger string
}

// Journal is an opened journal.
type Journal struct {
	Source Source
	// Stream is the journal stream, nil for a file.
	Stream *JetStreamSource
	// Locked is true when this process holds the data directory's lock:
	// no ledger runs on it until Close.
	Locked bool
	close  []func()
}

// Close releases the connection, the embedded server and the lock.
func (j *Journal) Close() {
	for i := len(j.close) - 1; i >= 0; i-- {
		j.close[i]()
	}
	j.close = nil
}

// ErrNoJournal means the target holds no journal stream for the ledger.
var ErrNoJournal = errors.New("no journal stream")

// natsConnectTimeout bounds connecting to a running ledger's NATS.
const natsConnectTimeout = 10 * time.Second

// Open opens the journal t names.
func Open(ctx context.Context, t Target) (*Journal, error) {
	names := journalio.NamesFor(t.Ledger)
	if t.Ledger == "" {
		names = journalio.NamesFor("default")
	}
	switch {
	case t.File != "" && (t.NATSURL != "" || t.DataDir != ""):
		return nil, errors.New("--file reads an export: it takes neither --nats-url nor --data-dir")
	case t.File != "":
		return &Journal{Source: &FileSource{Path: t.File}}, nil
	case t.NATSURL != "":
		return openNATS(ctx, t, names)
	case t.DataDir != "":
		return openDataDir(ctx, t.DataDir, names)
	}
	return nil, errors.New("name a journal: --data-dir, --nats-url or --file")
}

func openNATS(ctx context.Context, t Target, names journalio.Names) (*Journal, error) {
	opts := []nats.Option{nats.Name("ledger audit"), nats.Timeout(natsConnectTimeout)}
	if t.NATSUser != "" || t.NATSPassword != "" {
		opts = append(opts, nats.UserInfo(t.NATSUser, t.NATSPassword))
	}
	nc, err := nats.Connect(t.NATSURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", t.NATSURL, err)
	}
	j := &Journal{close: []func(){nc.Close}}
	if err := j.attach(ctx, nc, names, t.NATSURL); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

func openDataDir(ctx context.Context, dir string, names journalio.Names) (*Journal, error) {
	if _, err := os.Stat(filepath.Join(dir, "jetstream")); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	release, err := infra.LockDataDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w (read a running ledger through its NATS listener instead: --nats-url)", err)
	}
	j := &Journal{Locked: true, close: []func(){release}}
	_, nc, stop, err := infra.StartServer(infra.ServerConfig{DataDir: dir})
	if err != nil {
		j.Close()
		return nil, err
	}
	j.close = append(j.close, stop)
	if err := j.attach(ctx, nc, names, dir); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

func (j *Journal) attach(ctx context.Context, nc *nats.Conn, names journalio.Names, label string) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if _, err := js.Stream(ctx, names.JournalStream); err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("%s in %s: %w", names.JournalStream, label, ErrNoJournal)
		}
		return fmt.Errorf("journal stream: %w", err)
	}
	j.Stream = &JetStreamSource{JS: js, Names: names, Label: label}
	j.Source = j.Stream
	return nil
}
