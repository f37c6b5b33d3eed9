package natstest

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from a loopback address to a NATS
// server's listener, and can hold back what the server sends: a request
// then reaches the server and is acted on, but its answer does not come
// back (a JetStream publish is stored and its PubAck is lost), which is
// how a test makes a publish time out after the server stored it.
type Proxy struct {
	// Addr is where clients connect: 127.0.0.1 and a free port.
	Addr string

	target string
	ln     net.Listener
	wg     sync.WaitGroup
	closed chan struct{}

	mu    sync.Mutex
	held  chan struct{} // while holding: closed by Release; nil otherwise
	conns []net.Conn
	done  bool
}

// proxyConnsMax bounds the connections one proxy forwards: a test opens
// one or two; more means a client reconnecting in a loop.
const proxyConnsMax = 16

// proxyChunkBytes is the most bytes read from one side before they are
// forwarded to the other.
const proxyChunkBytes = 32 << 10

// StartProxy listens on 127.0.0.1 and forwards every connection to target
// (host:port) until the end of the test.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, closed: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// URL is the NATS URL of the proxy.
func (p *Proxy) URL() string { return "nats://" + p.Addr }

// Hold stops forwarding what the server sends, from the next byte read
// from it, until Release. What the clients send still reaches the
// server. The bytes held are delayed, not dropped: the NATS protocol
// stays whole.
func (p *Proxy) Hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = make(chan struct{})
	}
}

// Release forwards what the server sent while held, and everything after.
func (p *Proxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// Close stops listening, closes every connection and waits for the
// forwarding to end; it is safe to call twice.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return
	}
	p.done = true
	close(p.closed)
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		if p.done || len(p.conns)/2 >= proxyConnsMax {
			p.mu.Unlock()
			_ = client.Close()
			_ = server.Close()
			continue
		}
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			p.forward(server, client, false)
		}()
		go func() {
			defer p.wg.Done()
			p.forward(client, server, true)
		}()
	}
}

// forward copies from src to dst; when gated (server to client), each
// chunk waits while the proxy holds. Either side ending closes both.
func (p *Proxy) forward(dst, src net.Conn, gated bool) {
	defer func() {
		_ = dst.Close()
		_ = src.Close()
	}()
	buf := make([]byte, proxyChunkBytes)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if gated && !p.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF, or the other side or Close closed it
		}
	}
}

// wait blocks while the proxy holds; it reports false once the proxy is
// closed.
func (p *Proxy) wait() bool {
	for {
		p.mu.Lock()
		held := p.held
		p.mu.Unlock()
		if held == nil {
			return true
		}
		select {
		case <-held: // released; it may be held again since
		case <-p.closed:
			return false
		}
	}
}
