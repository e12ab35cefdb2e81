package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

func TestRefusedReason(t *testing.T) {
	tests := []struct {
		addr, reason string // reason "" means allowed
	}{
		{"127.0.0.1", "loopback"},
		{"127.8.9.10", "loopback"},
		{"::1", "loopback"},
		{"10.0.0.1", "private (RFC 1918)"},
		{"172.16.5.4", "private (RFC 1918)"},
		{"192.168.1.1", "private (RFC 1918)"},
		{"fc00::1", "private (unique local, fc00::/7)"},
		{"fd12:3456::1", "private (unique local, fc00::/7)"},
		{"169.254.169.254", "cloud metadata service"},
		{"fd00:ec2::254", "cloud metadata service"},
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"100.64.0.1", "carrier-grade NAT (100.64.0.0/10)"},
		{"100.127.255.254", "carrier-grade NAT (100.64.0.0/10)"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"0.1.2.3", `"this network" (0.0.0.0/8)`},
		{"255.255.255.255", "broadcast"},
		{"240.0.0.1", "reserved (240.0.0.0/4)"},
		{"192.0.2.10", "documentation (192.0.2.0/24)"},
		{"::ffff:127.0.0.1", "loopback, IPv4-mapped"},
		{"::ffff:169.254.169.254", "cloud metadata service, IPv4-mapped"},
		{"::ffff:10.1.2.3", "private (RFC 1918), IPv4-mapped"},
		{"64:ff9b::7f00:1", "loopback, embedded in IPv6 64:ff9b::7f00:1"},
		{"2002:a00:1::1", "private (RFC 1918), embedded in IPv6 2002:a00:1::1"},
		{"::127.0.0.1", "loopback, embedded in IPv6 ::7f00:1"},
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := refusedReason(netip.MustParseAddr(tt.addr)); got != tt.reason {
				t.Errorf("refusedReason(%s) = %q, want %q", tt.addr, got, tt.reason)
			}
		})
	}
}

// mapResolver resolves names from a map.
type mapResolver map[string][]netip.Addr

func (m mapResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if addrs, ok := m[host]; ok {
		return addrs, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestGuardRefusesBeforeConnecting(t *testing.T) {
	// A real server on loopback, counting connections: a refused fetch
	// must not even connect.
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<rss></rss>"))
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	portStr := ":" + strconv.Itoa(port)

	resolver := mapResolver{
		"evil.example":     {netip.MustParseAddr("127.0.0.1")},
		"rebind.example":   {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.5")},
		"mapped.example":   {netip.MustParseAddr("::ffff:127.0.0.1")},
		"metadata.example": {netip.MustParseAddr("169.254.169.254")},
	}
	c := New(Options{Resolver: resolver, Timeout: 2 * time.Second, DialTimeout: 300 * time.Millisecond})
	t.Cleanup(c.Close)

	tests := []struct {
		name, url, message string
	}{
		{"IPv4 loopback", "http://127.0.0.1" + portStr + "/feed", "refused to connect to 127.0.0.1: loopback address"},
		{"IPv6 loopback", "http://[::1]" + portStr + "/feed", "refused to connect to ::1: loopback address"},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", "refused to connect to 169.254.169.254: cloud metadata service address"},
		{"private", "http://10.0.0.1/feed", "refused to connect to 10.0.0.1: private (RFC 1918) address"},
		{"name resolving to loopback", "http://evil.example" + portStr + "/feed", "refused to connect to evil.example: it resolves to 127.0.0.1, a loopback address"},
		{"name resolving to mapped loopback", "http://mapped.example" + portStr + "/feed", "refused to connect to mapped.example: it resolves to 127.0.0.1, a loopback address"},
		{"name resolving to metadata", "http://metadata.example/", "it resolves to 169.254.169.254, a cloud metadata service address"},
		{"IPv4-mapped literal", "http://[::ffff:127.0.0.1]" + portStr + "/", "refused to connect to 127.0.0.1: loopback, IPv4-mapped address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := conns.Load()
			_, err := c.Fetch(context.Background(), Request{URL: tt.url})
			if err == nil {
				t.Fatal("fetch succeeded, want refusal")
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.message)
			}
			var fe *Error
			if errors.As(err, &fe) && fe.Kind == KindRefused {
				if digest.ErrorCode(err) != digest.EFORBIDDEN {
					t.Errorf("code = %s, want forbidden", digest.ErrorCode(err))
				}
				if !strings.Contains(err.Error(), "HERALD_FETCH_ALLOW_PRIVATE=1") {
					t.Errorf("error should say how to allow private addresses: %q", err)
				}
			}
			if n := conns.Load() - before; n != 0 {
				t.Errorf("the server saw %d connection(s)", n)
			}
		})
	}

	sys := New(Options{Timeout: 2 * time.Second})
	t.Cleanup(sys.Close)
	t.Run("decimal IPv4 through the system resolver", func(t *testing.T) {
		// Some resolvers read 2130706433 as 127.0.0.1; either way the
		// server must not see a connection.
		before := conns.Load()
		if _, err := sys.Fetch(context.Background(), Request{URL: "http://2130706433" + portStr + "/feed"}); err == nil {
			t.Error("fetch succeeded")
		}
		if n := conns.Load() - before; n != 0 {
			t.Errorf("the server saw %d connection(s)", n)
		}
	})
	t.Run("localhost through the system resolver", func(t *testing.T) {
		before := conns.Load()
		_, err := sys.Fetch(context.Background(), Request{URL: "http://localhost" + portStr + "/feed"})
		var fe *Error
		if !errors.As(err, &fe) || fe.Kind != KindRefused || !strings.Contains(err.Error(), "refused to connect to localhost: it resolves to") {
			t.Errorf("got %v, want a refusal naming localhost", err)
		}
		if n := conns.Load() - before; n != 0 {
			t.Errorf("the server saw %d connection(s)", n)
		}
	})

	t.Run("a public address next to a private one is dialled, the private one never", func(t *testing.T) {
		d := newDialer(&Options{Resolver: resolver, DialTimeout: 50 * time.Millisecond})
		var dialled []string
		d.net.Control = func(network, address string, _ syscall.RawConn) error {
			dialled = append(dialled, address)
			return errors.New("test: not really dialling")
		}
		_, _ = d.DialContext(context.Background(), "tcp", "rebind.example:80")
		if len(dialled) != 1 || dialled[0] != "93.184.216.34:80" {
			t.Errorf("dialled %v, want only the public address", dialled)
		}
	})

	t.Run("allowed when AllowPrivate", func(t *testing.T) {
		ok := New(Options{Resolver: resolver, AllowPrivate: true, Timeout: 2 * time.Second})
		t.Cleanup(ok.Close)
		_, err := ok.Fetch(context.Background(), Request{URL: "http://evil.example" + portStr + "/feed"})
		var fe *Error
		if errors.As(err, &fe) && (fe.Kind == KindRefused || fe.Kind == KindNetwork) {
			t.Fatalf("got %v, want the fetch to reach the server", err)
		}
		if conns.Load() == 0 {
			t.Error("the server saw no connection")
		}
	})
}
