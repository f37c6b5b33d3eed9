package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/nats-ledger/ledger/domain"
)

// The address policy (SSRF). A webhook URL comes from an API client, so by
// default the ledger refuses to send anything to addresses that are
// usually internal: loopback, private (RFC 1918, fc00::/7), link-local
// (including cloud metadata at 169.254.169.254), carrier-grade NAT,
// unspecified, multicast and broadcast. The check runs twice: on the URL
// at creation (an IP literal or "localhost"), and on the address actually
// dialled at every delivery (so a name that resolves, or is re-pointed, to
// such an address is refused too: no DNS rebinding). Redirects are not
// followed, and no proxy from the environment is used.

// errBlockedAddress is a dial the address policy refused.
var errBlockedAddress = errors.New("address not allowed for webhooks (loopback, private or link-local); see AllowPrivateNetworks")

var (
	carrierNAT  = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	broadcast   = netip.MustParseAddr("255.255.255.255")
)

// blocked reports whether the policy refuses ip.
func blocked(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		carrierNAT.Contains(ip) || thisNetwork.Contains(ip) || ip == broadcast
}

// checkURL applies the policy to a URL at creation.
func (s *Service) checkURL(raw string) error {
	if s.cfg.AllowPrivateNetworks {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &domain.FieldError{Field: "url", Reason: "must be an absolute http or https URL"}
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return &domain.FieldError{Field: "url", Reason: "must not point at this host (localhost)"}
	}
	if ip, err := netip.ParseAddr(host); err == nil && blocked(ip) {
		return &domain.FieldError{Field: "url", Reason: "must not point at a loopback, private or link-local address"}
	}
	return nil
}

// dialControl refuses connections to blocked addresses unless allowed.
func (s *Service) dialControl(_, address string, _ syscall.RawConn) error {
	if s.cfg.AllowPrivateNetworks {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial %s: %w", address, err)
	}
	if blocked(ap.Addr()) {
		return fmt.Errorf("webhook dial %s: %w", address, errBlockedAddress)
	}
	return nil
}

// newDialer is the delivery client's dialer, with the policy.
func (s *Service) newDialer() *net.Dialer {
	return &net.Dialer{Timeout: s.cfg.DeliveryTimeout, Control: s.dialControl}
}
