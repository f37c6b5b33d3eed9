package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-ledger/ledger/infra/natstest"
)

// These tests run the real binary as a child process, as an operator would.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ledgerBinary builds ./cmd/ledger once per test run.
func ledgerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ledger-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ledger")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a running `ledger serve`.
type proc struct {
	cmd     *exec.Cmd
	url     string
	dataDir string
	stderr  *natstest.Buffer
	done    chan error
}

// startLedger runs `ledger serve` on dataDir and waits until it is ready.
func startLedger(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	p := launch(t, dataDir, extra...)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("ledger exited before ready: %v\n%s", err, p.stderr)
		default:
		}
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("ledger not ready in time\n%s", p.stderr)
	return nil
}

func launch(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"serve", "--data-dir", dataDir, "--http-addr", addr}, extra...)
	cmd := exec.Command(ledgerBinary(t), args...)
	cmd.Env = append(os.Environ(), "LEDGER_ADMIN_TOKEN="+testAdminToken)
	p := &proc{cmd: cmd, url: "http://" + addr, dataDir: dataDir, stderr: &natstest.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		p.done <- nil
	})
	return p
}

// wait returns the exit error, or fails the test after the timeout.
func (p *proc) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(timeout):
		t.Fatalf("ledger did not exit in %s\n%s", timeout, p.stderr)
		return nil
	}
}

// testAdminToken is the static admin token the child processes accept.
const testAdminToken = "process-test-admin-token"

type apiClient struct {
	url string
	hc  *http.Client
}

func newClient(url string) *apiClient {
	return &apiClient{url: url, hc: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// do sends a JSON request and decodes a JSON answer into out (if not nil).
func (c *apiClient) do(ctx context.Context, method, path string, body any, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", strings.TrimSpace(string(data)), err)
		}
	}
	return resp.StatusCode, nil
}

func (c *apiClient) must(t *testing.T, method, path string, body any, want int) {
	t.Helper()
	got, err := c.do(context.Background(), method, path, body, nil)
	if err != nil || got != want {
		t.Fatalf("%s %s: status %d, err %v; want %d", method, path, got, err, want)
	}
}

func TestSecondServeOnSameDataDirFails(t *testing.T) {
	dir := t.TempDir()
	first := startLedger(t, dir)
	second := launch(t, dir)
	if err := second.wait(t, 30*time.Second); err == nil {
		t.Fatal("a second ledger serve on the same data dir exited 0")
	}
	if !strings.Contains(second.stderr.String(), "in use by another ledger process") {
		t.Fatalf("second serve's message does not say the data dir is in use:\n%s", second.stderr)
	}
	// The first is unharmed.
	newClient(first.url).must(t, http.MethodGet, "/readyz", nil, http.StatusOK)
}

func TestSIGTERMShutsDownGracefully(t *testing.T) {
	p := startLedger(t, t.TempDir())
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
}

// TestNATSListenerExposesAProtectedJournal starts serve with a NATS
// listener, reads the journal as the nats CLI would, and checks that the
// server refuses to delete or purge it.
func TestNATSListenerExposesAProtectedJournal(t *testing.T) {
	natsAddr := freeAddr(t)
	_, port, _ := net.SplitHostPort(natsAddr)
	p := startLedger(t, t.TempDir(), "--nats-listen", port)
	c := newClient(p.url)
	c.must(t, http.MethodPost, "/v1/assets", map[string]any{"code": "USD", "scale": 2}, http.StatusCreated)

	if _, err := nats.Connect("nats://" + natsAddr); err == nil {
		t.Fatal("the NATS listener accepted a client without credentials")
	}
	password, err := os.ReadFile(filepath.Join(p.dataDir, "auth", "nats.password"))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect("nats://"+natsAddr, nats.UserInfo("ledger", strings.TrimSpace(string(password))))
	if err != nil {
		t.Fatalf("connect to the ledger's NATS listener: %v", err)
	}
	defer nc.Close()
	js := mustJetStream(t, nc)
	ctx := context.Background()
	stream, err := js.Stream(ctx, "JOURNAL_default")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "ledger.default.journal.AssetDefined" || !strings.Contains(string(msg.Data), `"asset":{"code":"USD","scale":2}`) {
		t.Fatalf("journal record 1: %s %s", msg.Subject, msg.Data)
	}
	if err := stream.DeleteMsg(ctx, 1); err == nil {
		t.Fatal("deleting a journal record succeeded")
	}
	if err := stream.Purge(ctx); err == nil {
		t.Fatal("purging the journal succeeded")
	}
	if _, err := stream.GetMsg(ctx, 1); err != nil {
		t.Fatalf("journal record 1 after the refused delete: %v", err)
	}
}
