package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	ledgerapi "github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/infra/auth"
	"github.com/nats-ledger/ledger/node"
)

// shutdownTimeout bounds the in-process server's shutdown.
const shutdownTimeout = 30 * time.Second

// newHTTPServer serves h with ledger serve's limits (api.NewHTTPServer), so
// the baseline and the self-started ledger meet the same server.
func newHTTPServer(h http.Handler) *http.Server { return ledgerapi.NewHTTPServer(h) }

// target is the ledger under load.
type target struct {
	base, token string
	// stop shuts a self-started ledger down and removes its temporary
	// directory; it reports whether the ledger failed while running.
	stop func() error
}

// remote is a ledger someone else runs.
func remote(url, token string) target {
	return target{base: url, token: token, stop: func() error { return nil }}
}

// startLedger runs a ledger in this process on cfg.DataDir, or on a new
// temporary directory, with HTTP on a free loopback port. The bench calls
// it with an admin JWT signed with the ledger's key, so that every request
// pays for token verification as a client's would (and as the API ceiling
// does). Its log goes to logw at warning level and above.
func startLedger(ctx context.Context, cfg Config, logw io.Writer) (target, error) {
	dir, temp := cfg.DataDir, false
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "ledger-bench-*"); err != nil {
			return target{}, err
		}
		temp = true
	}
	removeDir := func() {
		if temp {
			_ = os.RemoveAll(dir)
		}
	}
	n, err := node.Start(ctx, node.Config{
		DataDir:    dir,
		SyncAlways: cfg.SyncAlways,
		RateLimit:  0,
		Logger:     slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		removeDir()
		return target{}, fmt.Errorf("start ledger: %w", err)
	}
	token, err := mintAdminToken(n.KeyFile)
	if err != nil {
		_ = n.Close()
		removeDir()
		return target{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = n.Close()
		removeDir()
		return target{}, fmt.Errorf("http listen: %w", err)
	}
	srv := newHTTPServer(n.Handler)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	stop := func() error {
		var errs []error
		select {
		case err := <-n.Failed():
			errs = append(errs, err)
		default:
		}
		shutCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(shutCtx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("http: %w", err))
		}
		if err := n.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop ledger: %w", err))
		}
		removeDir()
		return errors.Join(errs...)
	}
	return target{base: "http://" + ln.Addr().String(), token: token, stop: stop}, nil
}

// mintAdminToken signs an admin JWT with the HS256 key at keyFile.
func mintAdminToken(keyFile string) (string, error) {
	key, err := auth.LoadKey(keyFile)
	if err != nil {
		return "", err
	}
	return auth.MintToken(key, "bench", []string{ledgerapi.ScopeAdmin}, benchTokenTTL, time.Now())
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}
