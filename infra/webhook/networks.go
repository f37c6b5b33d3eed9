package webhook

import (
	"fmt"
	"net/netip"
	"strings"
)

// The operator's exceptions to the address policy (--webhook-allow-networks,
// Config.AllowNetworks): networks whose addresses webhooks may reach even
// though the policy would refuse them, for receivers on a private network.
// Loopback and this host (127.0.0.0/8, ::1, 0.0.0.0/8, ::) are a class
// apart: only a network inside them opens them, so that 10.0.0.0/8 or even
// 0.0.0.0/0 opens the private networks named and never the ledger's own
// host, whose admin ports (NATS, pprof, the adapters) an API client should
// not reach by accident of a broad CIDR.

// AllowNetworksMax bounds the networks an operator may name: each dial
// checks them all.
const AllowNetworksMax = 64

// ParseNetwork reads one network of --webhook-allow-networks: a CIDR
// (10.0.0.0/8, fd00::/8, 127.0.0.1/32), normalized to its masked form, an
// IPv4-mapped IPv6 network as the IPv4 network it maps.
func ParseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if _, aerr := netip.ParseAddr(s); aerr == nil {
			return netip.Prefix{}, fmt.Errorf("%q: a network is a CIDR, e.g. %s/32 for one IPv4 address", s, s)
		}
		return netip.Prefix{}, fmt.Errorf("%q: want a CIDR such as 10.0.0.0/8 or fd00::/8", s)
	}
	if p.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q: a network has no zone", s)
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// selfAddr reports whether ip is this host: loopback, or an address that
// a connection reaches this host by (0.0.0.0/8, ::).
func selfAddr(ip netip.Addr) bool {
	return ip.IsLoopback() || ip.IsUnspecified() || thisNetwork.Contains(ip)
}

// selfNetwork reports whether p lies inside the host's own ranges, so
// that it may open them: 127.0.0.0/8 or narrower, 0.0.0.0/8 or narrower,
// ::1/128 or ::/128.
func selfNetwork(p netip.Prefix) bool {
	if p.Addr().Is4() {
		return p.Bits() >= 8 && selfAddr(p.Addr())
	}
	return p.Bits() == 128 && selfAddr(p.Addr())
}

// allowedByOperator reports whether one of the operator's networks admits
// ip (already unmapped).
func (s *Service) allowedByOperator(ip netip.Addr) bool {
	for _, p := range s.cfg.AllowNetworks {
		if p.Contains(ip) && (!selfAddr(ip) || selfNetwork(p)) {
			return true
		}
	}
	return false
}
