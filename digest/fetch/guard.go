package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
)

// Feed URLs come from chat users, so a fetch must never reach the machine
// Herald runs on, its private network or a cloud metadata service. The guard
// runs at dial time, on the address actually connected to, after DNS
// resolution: a name that resolves (or re-resolves, DNS rebinding) to a
// forbidden address is refused, and so is every redirect hop.

// RefusedError says that the guard refused to connect to an address.
type RefusedError struct {
	Host   string     // the host name asked for (may be the address itself)
	Addr   netip.Addr // the refused address
	Reason string     // e.g. "loopback", "private (RFC 1918)"
}

// Error implements error.
func (e *RefusedError) Error() string {
	if e.Host == "" || e.Host == e.Addr.String() {
		return fmt.Sprintf("refused to connect to %s: %s address", e.Addr, e.Reason)
	}
	return fmt.Sprintf("refused to connect to %s: it resolves to %s, a %s address", e.Host, e.Addr, e.Reason)
}

var (
	metadataV4 = netip.MustParseAddr("169.254.169.254") // AWS, GCP, Azure, OpenStack...
	metadataV6 = netip.MustParseAddr("fd00:ec2::254")   // AWS IMDS over IPv6

	// Ranges netip's predicates do not cover, with the reason shown to users.
	refusedPrefixes = []struct {
		prefix netip.Prefix
		reason string
	}{
		{netip.MustParsePrefix("0.0.0.0/8"), `"this network" (0.0.0.0/8)`},
		{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT (100.64.0.0/10)"},
		{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment (192.0.0.0/24)"},
		{netip.MustParsePrefix("192.0.2.0/24"), "documentation (192.0.2.0/24)"},
		{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (198.18.0.0/15)"},
		{netip.MustParsePrefix("198.51.100.0/24"), "documentation (198.51.100.0/24)"},
		{netip.MustParsePrefix("203.0.113.0/24"), "documentation (203.0.113.0/24)"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
		{netip.MustParsePrefix("100::/64"), "discard-only (100::/64)"},
		{netip.MustParsePrefix("2001:db8::/32"), "documentation (2001:db8::/32)"},
	}
	// IPv6 forms that embed an IPv4 address a gateway would forward to.
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	v4Compatible = netip.MustParsePrefix("::/96") // deprecated ::a.b.c.d
)

// refusedReason returns why the guard refuses ip, or "" when ip is a public
// unicast address.
func refusedReason(ip netip.Addr) string {
	ip = ip.WithZone("")
	if ip.Is4In6() {
		// ::ffff:127.0.0.1 reaches 127.0.0.1.
		if r := refusedReason(ip.Unmap()); r != "" {
			return r + ", IPv4-mapped"
		}
		return ""
	}
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip == metadataV4 || ip == metadataV6:
		return "cloud metadata service"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		if ip.Is4() {
			return "private (RFC 1918)"
		}
		return "private (unique local, fc00::/7)"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	case ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast"
	}
	for _, p := range refusedPrefixes {
		if p.prefix.Contains(ip) {
			return p.reason
		}
	}
	if ip.Is6() {
		b := ip.As16()
		var embedded netip.Addr
		switch {
		case nat64Prefix.Contains(ip):
			embedded = netip.AddrFrom4([4]byte(b[12:16]))
		case sixToFour.Contains(ip):
			embedded = netip.AddrFrom4([4]byte(b[2:6]))
		case v4Compatible.Contains(ip):
			embedded = netip.AddrFrom4([4]byte(b[12:16]))
		}
		if embedded.IsValid() {
			if r := refusedReason(embedded); r != "" {
				return r + ", embedded in IPv6 " + ip.String()
			}
		}
	}
	return ""
}

// Resolver looks up the addresses of a host. *net.Resolver implements it;
// tests and benchmarks inject their own to map names to local servers.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// dialer connects to feed hosts, refusing forbidden addresses unless
// allowPrivate is set.
type dialer struct {
	net          net.Dialer
	resolver     Resolver
	allowPrivate bool
}

func newDialer(o *Options) *dialer {
	d := &dialer{resolver: o.Resolver, allowPrivate: o.AllowPrivate}
	if d.resolver == nil {
		d.resolver = net.DefaultResolver
	}
	d.net = net.Dialer{Timeout: o.DialTimeout, KeepAlive: -1}
	if !o.AllowPrivate {
		// Defence in depth: DialContext below already filtered the
		// resolved addresses; Control checks the very socket address the
		// kernel is asked to connect to, whatever path led there.
		d.net.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("guard: unexpected address %q: %w", address, err)
			}
			if reason := refusedReason(ap.Addr()); reason != "" {
				return &RefusedError{Addr: ap.Addr().Unmap(), Reason: reason}
			}
			return nil
		}
	}
	return d
}

// DialContext resolves the host itself, so that a refusal can name both the
// host and the address it resolved to, then dials the permitted addresses in
// turn.
func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: invalid port %q", address, portText)
	}
	var addrs []netip.Addr
	literal := false
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
		literal = true
	} else {
		addrs, err = d.resolver.LookupNetIP(ctx, ipNetwork(network), host)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	var refused *RefusedError
	var lastErr error
	for _, ip := range addrs {
		if !literal {
			// Resolvers return IPv4 addresses in their IPv4-mapped form;
			// only a literal written that way deserves the mention.
			ip = ip.Unmap()
		}
		if !d.allowPrivate {
			if reason := refusedReason(ip); reason != "" {
				if refused == nil {
					refused = &RefusedError{Host: host, Addr: ip.Unmap(), Reason: reason}
					if literal {
						refused.Host = ""
					}
				}
				continue
			}
		}
		ip = ip.Unmap()
		conn, err := d.net.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if refused != nil {
		return nil, refused
	}
	return nil, errors.New("dial " + address + ": no usable address")
}

func ipNetwork(network string) string {
	switch {
	case strings.HasSuffix(network, "4"):
		return "ip4"
	case strings.HasSuffix(network, "6"):
		return "ip6"
	default:
		return "ip"
	}
}
