package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// TestAddressPolicy checks the SSRF policy on addresses, on URLs at
// creation, and on dials.
func TestAddressPolicy(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, "10.1.2.3": true, "172.16.0.1": true, "172.31.255.255": true,
		"192.168.1.1": true, "169.254.169.254": true, "fe80::1": true, "fd00::1": true, "100.64.0.1": true,
		"0.0.0.0": true, "0.1.2.3": true, "::": true, "224.0.0.1": true, "ff02::1": true, "255.255.255.255": true,
		"::ffff:127.0.0.1": true, "::ffff:10.0.0.1": true,
		"93.184.216.34": false, "8.8.8.8": false, "172.32.0.1": false, "100.128.0.1": false, "2606:4700::1111": false,
	} {
		if got := blocked(netip.MustParseAddr(addr)); got != want {
			t.Errorf("blocked(%s) = %v, want %v", addr, got, want)
		}
	}
	strict, open := &Service{}, &Service{cfg: Config{AllowPrivateNetworks: true}}
	for url, refused := range map[string]bool{
		"http://127.0.0.1:8080/x": true, "http://localhost/x": true, "http://LOCALHOST./x": true, "http://a.localhost/x": true,
		"http://[::1]/x": true, "http://169.254.169.254/latest": true, "http://10.0.0.1/x": true,
		"https://hooks.example.com/x": false, "http://93.184.216.34/x": false,
	} {
		var fe *domain.FieldError
		if err := strict.checkURL(context.Background(), url); refused != errors.As(err, &fe) {
			t.Errorf("checkURL(%s) = %v, want refused %v", url, err, refused)
		}
		if err := open.checkURL(context.Background(), url); err != nil {
			t.Errorf("checkURL(%s) with private networks allowed: %v", url, err)
		}
	}
	for addr, refused := range map[string]bool{"[::ffff:127.0.0.1]:80": true, "0.0.0.0:80": true, "127.0.0.1:80": true, "[fd00::2]:443": true, "93.184.216.34:443": false} {
		if err := strict.dialControl("tcp", addr, nil); refused != errors.Is(err, errBlockedAddress) {
			t.Errorf("dialControl(%s) = %v, want refused %v", addr, err, refused)
		}
		if err := open.dialControl("tcp", addr, nil); err != nil {
			t.Errorf("dialControl(%s) with private networks allowed: %v", addr, err)
		}
	}
}

// TestHostForms checks that a URL's host is read as resolvers and URL
// parsers read it: every spelling of an IPv4 address, IPv6 literals, and
// hosts that end in a number without being an address.
func TestHostForms(t *testing.T) {
	for host, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "127.1": "127.0.0.1", "127.0.1": "127.0.0.1", "0x7f000001": "127.0.0.1",
		"0X7F000001": "127.0.0.1", "2130706433": "127.0.0.1", "0177.0.0.1": "127.0.0.1", "0x7f.1": "127.0.0.1",
		"017700000001": "127.0.0.1", "127.0.0.1.": "127.0.0.1", "0": "0.0.0.0", "0x": "0.0.0.0", "10.1": "10.0.0.1",
		"192.168.257": "192.168.1.1", "0xa9fea9fe": "169.254.169.254", "8.8.8.8": "8.8.8.8", "134744072": "8.8.8.8",
		"::1": "::1", "::ffff:127.0.0.1": "::ffff:127.0.0.1", "fe80::1%eth0": "fe80::1%eth0",
	} {
		addrs, literal, err := hostAddrs(host)
		if err != nil || !literal || len(addrs) != 1 || addrs[0].String() != want {
			t.Errorf("hostAddrs(%q) = %v, %v, %v; want %s", host, addrs, literal, err, want)
		}
	}
	for _, host := range []string{"hooks.example.com", "localhost", "a1", "1a", "example.com.", "0x7g", "1.2.3.a"} {
		if addrs, literal, err := hostAddrs(host); err != nil || literal || addrs != nil {
			t.Errorf("hostAddrs(%q) = %v, %v, %v; want a name to look up", host, addrs, literal, err)
		}
	}
	for _, host := range []string{"1.2.3.4.5", "256.1.1.1", "1.2.3.256", "127.16777216", "4294967296", "08", "1..2", "0x1.0x1000000", "example.123", "[::1", "::g"} {
		if _, _, err := hostAddrs(host); err == nil {
			t.Errorf("hostAddrs(%q) accepted a host that ends in a number but is no address", host)
		}
	}
}

// TestNonCanonicalLoopbackURLs checks creation-time refusal of the
// spellings of internal addresses that once passed.
func TestNonCanonicalLoopbackURLs(t *testing.T) {
	strict := &Service{}
	for _, raw := range []string{"http://127.1/x", "http://0x7f000001/x", "http://2130706433/x", "http://0177.0.0.1/x",
		"http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://[::ffff:7f00:1]/x", "http://0/x", "http://localhost./x",
		"http://127.0.0.1./x", "http://10.1/x", "http://0xa9fea9fe/latest", "http://[fe80::1%25eth0]/x", "http://1.2.3.4.5/x"} {
		var fe *domain.FieldError
		if err := strict.checkURL(context.Background(), raw); !errors.As(err, &fe) || fe.Field != "url" {
			t.Errorf("checkURL(%s) = %v, want refused on url", raw, err)
		}
	}
}

// TestNamesAreResolvedAtCreation checks that a name is refused at creation
// when any address it resolves to is blocked, accepted when all are public
// or when it does not resolve (the dial-time check then decides).
func TestNamesAreResolvedAtCreation(t *testing.T) {
	zone := map[string][]netip.Addr{
		"internal.example":  {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.7")},
		"rebind.example":    {netip.MustParseAddr("::ffff:127.0.0.1")},
		"public.example":    {netip.MustParseAddr("93.184.216.34")},
		"localhost.example": {netip.MustParseAddr("127.0.0.1")},
	}
	var asked []string
	s := &Service{lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
		asked = append(asked, host)
		if addrs, ok := zone[host]; ok {
			return addrs, nil
		}
		return nil, errors.New("no such host")
	}}
	for raw, refused := range map[string]bool{
		"https://internal.example/x": true, "https://rebind.example/x": true, "https://LOCALHOST.example./x": true,
		"https://public.example/x": false, "https://unknown.example/x": false,
	} {
		var fe *domain.FieldError
		if err := s.checkURL(context.Background(), raw); refused != errors.As(err, &fe) {
			t.Errorf("checkURL(%s) = %v, want refused %v", raw, err, refused)
		}
	}
	asked = nil
	if err := s.checkURL(context.Background(), "http://127.1/x"); err == nil || len(asked) != 0 {
		t.Errorf("an IPv4 address in another form was looked up (%v) or accepted (%v)", asked, err)
	}
}

// TestOperatorNetworks checks the networks an operator opens: their
// addresses pass at creation and at dial time, other internal ones do
// not, and loopback opens only for a loopback network.
func TestOperatorNetworks(t *testing.T) {
	svc := func(cidrs ...string) *Service {
		var ps []netip.Prefix
		for _, c := range cidrs {
			p, err := ParseNetwork(c)
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		return &Service{cfg: Config{AllowNetworks: ps}}
	}
	for _, c := range []struct {
		s       *Service
		allowed []string
		refused []string
	}{
		{svc("10.20.0.0/16"), []string{"10.20.1.2", "::ffff:10.20.0.9"}, []string{"10.21.0.1", "127.0.0.1", "169.254.169.254", "192.168.1.1"}},
		{svc("0.0.0.0/0", "::/0"), []string{"10.0.0.1", "169.254.169.254", "fd00::1", "8.8.8.8"}, []string{"127.0.0.1", "0.0.0.0", "0.1.2.3", "::1", "::"}},
		{svc("127.0.0.0/8"), []string{"127.0.0.1", "127.9.9.9", "::ffff:127.0.0.1"}, []string{"::1", "10.0.0.1", "0.0.0.0"}},
		{svc("::1/128", "::ffff:192.168.0.0/112"), []string{"::1", "192.168.3.4"}, []string{"127.0.0.1", "10.0.0.1"}},
	} {
		for _, a := range c.allowed {
			if err := c.s.dialControl("tcp", netip.AddrPortFrom(netip.MustParseAddr(a), 80).String(), nil); err != nil {
				t.Errorf("%v: dial %s: %v", c.s.cfg.AllowNetworks, a, err)
			}
			if err := c.s.checkURL(context.Background(), "http://"+netip.AddrPortFrom(netip.MustParseAddr(a), 80).String()+"/x"); err != nil {
				t.Errorf("%v: create for %s: %v", c.s.cfg.AllowNetworks, a, err)
			}
		}
		for _, a := range c.refused {
			if err := c.s.dialControl("tcp", netip.AddrPortFrom(netip.MustParseAddr(a), 80).String(), nil); !errors.Is(err, errBlockedAddress) {
				t.Errorf("%v: dial %s: %v, want refused", c.s.cfg.AllowNetworks, a, err)
			}
		}
	}
	if err := svc("127.0.0.1/32").checkURL(context.Background(), "http://localhost:9/x"); err != nil {
		t.Errorf("localhost with 127.0.0.1/32 named: %v", err)
	}
	if err := svc("0.0.0.0/0").checkURL(context.Background(), "http://localhost:9/x"); err == nil {
		t.Error("localhost accepted with no loopback network named")
	}
	for _, bad := range []string{"10.1.2.3", "10.0.0.0/33", "fe80::/10%eth0", "x", ""} {
		if _, err := ParseNetwork(bad); err == nil {
			t.Errorf("ParseNetwork(%q) accepted", bad)
		}
	}
}

// TestDeliveryHonoursOperatorNetworks delivers to a real receiver on
// 127.0.0.1: refused at the dial (the receiver sees nothing) unless a
// loopback network is named.
func TestDeliveryHonoursOperatorNetworks(t *testing.T) {
	var hits atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(rc.Close)
	w := stored{ID: "wh_test", URL: rc.URL, Secret: "whsec_test"}
	for _, c := range []struct {
		cidr      string
		delivered bool
	}{{"10.0.0.0/8", false}, {"0.0.0.0/0", false}, {"127.0.0.0/8", true}} {
		cfg := Config{AllowNetworks: []netip.Prefix{netip.MustParsePrefix(c.cidr)}}
		cfg.setDefaults()
		s := &Service{cfg: cfg}
		s.client = s.newClient()
		before := hits.Load()
		err := s.deliver(context.Background(), w, 1, "AssetDefined", []byte(`{}`))
		if c.delivered != (err == nil) || c.delivered != (hits.Load() > before) {
			t.Errorf("%s: %v (receiver hit %v), want delivered %v", c.cidr, err, hits.Load() > before, c.delivered)
		}
		if !c.delivered && (err == nil || !strings.Contains(err.Error(), "not allowed")) {
			t.Errorf("%s: %v, want the address policy's refusal", c.cidr, err)
		}
		s.client.CloseIdleConnections()
	}
}
