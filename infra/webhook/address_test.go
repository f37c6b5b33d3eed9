package webhook

import (
	"errors"
	"net/netip"
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
		if err := strict.checkURL(url); refused != errors.As(err, &fe) {
			t.Errorf("checkURL(%s) = %v, want refused %v", url, err, refused)
		}
		if err := open.checkURL(url); err != nil {
			t.Errorf("checkURL(%s) with private networks allowed: %v", url, err)
		}
	}
	for addr, refused := range map[string]bool{"127.0.0.1:80": true, "[fd00::2]:443": true, "93.184.216.34:443": false} {
		if err := strict.dialControl("tcp", addr, nil); refused != errors.Is(err, errBlockedAddress) {
			t.Errorf("dialControl(%s) = %v, want refused %v", addr, err, refused)
		}
		if err := open.dialControl("tcp", addr, nil); err != nil {
			t.Errorf("dialControl(%s) with private networks allowed: %v", addr, err)
		}
	}
}
