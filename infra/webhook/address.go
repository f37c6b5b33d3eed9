package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// The address policy (SSRF). A webhook URL comes from an API client, so by
// default the ledger refuses to send anything to addresses that are
// usually internal: loopback, private (RFC 1918, fc00::/7), link-local
// (including cloud metadata at 169.254.169.254), carrier-grade NAT,
// unspecified, multicast and broadcast. One check, refusedAddr, runs twice:
// at creation on every address the URL's host stands for, and at every
// delivery on the address actually dialled (so a name that is re-pointed
// to such an address later is refused too: no DNS rebinding). At creation
// the host is read as a resolver reads it: an IPv4 address in any of the
// forms inet_aton and the WHATWG URL standard accept (127.1, 0x7f000001,
// 2130706433, 0177.0.0.1, a trailing dot), an IPv6 literal (::1,
// ::ffff:127.0.0.1, with a zone), "localhost" and its subdomains with or
// without the final dot, and any other name through the resolver the
// dialer uses. Redirects are not followed, and no proxy from the
// environment is used.

// errBlockedAddress is a dial the address policy refused.
var errBlockedAddress = errors.New("address not allowed for webhooks (loopback, private or link-local, and in no network of --webhook-allow-networks)")

// lookupTimeout bounds resolving a webhook's host name at creation. A name
// that does not resolve in time is accepted: the check at every dial still
// holds, and a receiver's DNS may be down for a while.
const lookupTimeout = 2 * time.Second

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

// refusedAddr is the one check on an address, at creation and at dial
// time: nil, or why the address may not receive webhooks. An address the
// policy blocks is allowed when one of the operator's networks admits it
// (networks.go).
func (s *Service) refusedAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	if s.cfg.AllowPrivateNetworks || !blocked(ip) || s.allowedByOperator(ip.WithZone("")) {
		return nil
	}
	return fmt.Errorf("%s: %w", ip, errBlockedAddress)
}

// checkURL applies the policy to a URL at creation: to the address its
// host denotes, or to every address its name resolves to.
func (s *Service) checkURL(ctx context.Context, raw string) error {
	if s.cfg.AllowPrivateNetworks {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return &domain.FieldError{Field: "url", Reason: "must be an absolute http or https URL"}
	}
	host := strings.ToLower(u.Hostname())
	name := strings.TrimSuffix(host, ".")
	if (name == "localhost" || strings.HasSuffix(name, ".localhost")) &&
		s.refusedAddr(netip.AddrFrom4([4]byte{127, 0, 0, 1})) != nil && s.refusedAddr(netip.IPv6Loopback()) != nil {
		return &domain.FieldError{Field: "url", Reason: "must not point at this host (localhost)"}
	}
	addrs, literal, err := hostAddrs(host)
	if err != nil {
		return &domain.FieldError{Field: "url", Reason: err.Error()}
	}
	if !literal {
		ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		defer cancel()
		lookup := s.lookup
		if lookup == nil {
			lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
		// A failed lookup leaves addrs empty: the dial-time check decides.
		addrs, _ = lookup(ctx, name)
	}
	for _, ip := range addrs {
		if s.refusedAddr(ip) != nil {
			return &domain.FieldError{Field: "url", Reason: fmt.Sprintf("must not point at a loopback, private or link-local address outside the networks the operator allows (%s is %s)", u.Hostname(), ip.Unmap())}
		}
	}
	return nil
}

// hostAddrs reads a URL's host (without brackets) as an IP address the
// way resolvers and URL parsers do. literal is false for a name to look
// up. A host that ends in a number but is no IPv4 address in any form
// (1.2.3.4.5, 256.1.1.1) is an error: the WHATWG URL standard refuses it,
// and resolvers disagree on it.
func hostAddrs(host string) (addrs []netip.Addr, literal bool, err error) {
	if strings.Contains(host, ":") {
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return nil, true, errors.New("has a malformed IPv6 address")
		}
		return []netip.Addr{ip}, true, nil
	}
	labels := strings.Split(host, ".")
	if len(labels) > 1 && labels[len(labels)-1] == "" {
		labels = labels[:len(labels)-1] // one final dot, as in a fully qualified name
	}
	if last := labels[len(labels)-1]; !isNumber(last) {
		return nil, false, nil
	}
	ip, ok := parseIPv4(labels)
	if !ok {
		return nil, true, errors.New("ends in a number but is not an IPv4 address")
	}
	return []netip.Addr{ip}, true, nil
}

// isNumber reports whether a label is a number as IPv4 parsing reads it:
// decimal digits, or 0x followed by hex digits.
func isNumber(label string) bool {
	digits := label
	if len(label) >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X') {
		digits = label[2:]
		if digits == "" {
			return true
		}
		_, err := strconv.ParseUint(digits, 16, 64)
		return err == nil || errors.Is(err, strconv.ErrRange)
	}
	if digits == "" {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// parseIPv4 is the WHATWG URL standard's IPv4 parser (and inet_aton's):
// one to four parts, each decimal, octal (a leading 0) or hexadecimal
// (0x); every part but the last is one byte, and the last fills the bytes
// that remain, so 127.1 is 127.0.0.1 and 2130706433 is 127.0.0.1 too.
func parseIPv4(labels []string) (netip.Addr, bool) {
	if len(labels) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, label := range labels {
		if label == "" {
			return netip.Addr{}, false // 1..2: an empty part
		}
		base, digits := 10, label
		switch {
		case len(label) >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X'):
			base, digits = 16, label[2:]
		case len(label) >= 2 && label[0] == '0':
			base, digits = 8, label[1:]
		}
		n := uint64(0)
		if digits != "" {
			var err error
			if n, err = strconv.ParseUint(digits, base, 32); err != nil {
				return netip.Addr{}, false
			}
		}
		if i < len(labels)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(4-i)) {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// dialControl refuses connections to blocked addresses unless allowed: the
// same check as at creation, on the address the dialer resolved.
func (s *Service) dialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		if s.cfg.AllowPrivateNetworks {
			return nil
		}
		return fmt.Errorf("webhook dial %s: %w", address, err)
	}
	if err := s.refusedAddr(ap.Addr()); err != nil {
		return fmt.Errorf("webhook dial %s: %w", address, err)
	}
	return nil
}

// newDialer is the delivery client's dialer, with the policy.
func (s *Service) newDialer() *net.Dialer {
	return &net.Dialer{Timeout: s.cfg.DeliveryTimeout, Control: s.dialControl}
}
