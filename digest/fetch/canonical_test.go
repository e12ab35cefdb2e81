package fetch_test

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/digest/fetch"
)

func TestCanonicalURL(t *testing.T) {
	tests := []struct {
		name, raw, base, want string
	}{
		{"lower-case scheme and host", "HTTPS://News.Example.COM/Path/To", "", "https://news.example.com/Path/To"},
		{"default http port", "http://example.com:80/a", "", "http://example.com/a"},
		{"default https port", "https://example.com:443/a", "", "https://example.com/a"},
		{"other port kept", "https://example.com:8443/a", "", "https://example.com:8443/a"},
		{"empty path", "https://example.com", "", "https://example.com/"},
		{"fragment dropped", "https://example.com/a#section-2", "", "https://example.com/a"},
		{"tracking dropped", "https://example.com/a?utm_source=rss&utm_medium=feed&id=7&fbclid=x&gclid=y&mc_cid=1&mc_eid=2", "", "https://example.com/a?id=7"},
		{"tracking case-insensitive", "https://example.com/a?UTM_Campaign=x&Ref=1", "", "https://example.com/a?Ref=1"},
		{"query sorted", "https://example.com/s?q=go&a=1&z=&b=2", "", "https://example.com/s?a=1&b=2&q=go&z="},
		{"repeated names keep their order", "https://example.com/s?tag=b&a=1&tag=a", "", "https://example.com/s?a=1&tag=b&tag=a"},
		{"only tracking", "https://example.com/a?utm_source=x", "", "https://example.com/a"},
		{"empty query", "https://example.com/a?", "", "https://example.com/a"},
		{"empty pieces", "https://example.com/a?&&b=1&", "", "https://example.com/a?b=1"},
		{"relative to feed", "../posts/1", "https://blog.example/feeds/all/", "https://blog.example/feeds/posts/1"},
		{"root-relative", "/posts/1?utm_source=rss", "https://blog.example/feed.xml", "https://blog.example/posts/1"},
		{"protocol-relative", "//cdn.example/a", "https://blog.example/", "https://cdn.example/a"},
		{"dot segments", "https://example.com/a/./b/../c", "", "https://example.com/a/c"},
		{"user info dropped", "https://user:pw@example.com/a", "", "https://example.com/a"},
		{"trailing dot", "https://example.com./a", "", "https://example.com/a"},
		{"percent case", "https://example.com/caf%c3%a9", "", "https://example.com/caf%C3%A9"},
		{"unreserved decoded", "https://example.com/%7Euser/%41", "", "https://example.com/~user/A"},
		{"encoded slash kept", "https://example.com/a%2Fb", "", "https://example.com/a%2Fb"},
		{"encoded dot kept", "https://example.com/a/%2E%2E/b", "", "https://example.com/a/%2E%2E/b"},
		{"spaces encoded", "https://example.com/a b?q=a b", "", "https://example.com/a%20b?q=a%20b"},
		{"unicode path", "https://example.com/ünï", "", "https://example.com/%C3%BCn%C3%AF"},
		{"international host", "https://Bücher.example/", "", "https://xn--bcher-kva.example/"},
		{"IPv6 host", "http://[2001:DB8::1]:80/a", "", "http://[2001:db8::1]/a"},
		{"newlines in link", "https://example.com/a\n/b\t", "", "https://example.com/a/b"},
		{"surrounding space", "  https://example.com/a  ", "", "https://example.com/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fetch.CanonicalURL(tt.raw, tt.base)
			if err != nil {
				t.Fatalf("CanonicalURL(%q, %q): %v", tt.raw, tt.base, err)
			}
			if got != tt.want {
				t.Errorf("CanonicalURL(%q, %q) = %q, want %q", tt.raw, tt.base, got, tt.want)
			}
		})
	}
}

func TestCanonicalURLErrors(t *testing.T) {
	for _, raw := range []string{"", "   ", "mailto:a@example.com", "javascript:alert(1)", "ftp://example.com/a", "/relative/without/base", "http://", "http:opaque", "http://exa mple.com/"} {
		t.Run(raw, func(t *testing.T) {
			if got, err := fetch.CanonicalURL(raw, ""); err == nil {
				t.Errorf("CanonicalURL(%q) = %q, want an error", raw, got)
			}
		})
	}
}

func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{
		"https://Example.com:443/a/../b/./c?utm_source=x&b=2&a=1#frag",
		"http://[::1]:80/%7e%2f%2E?%zz=1&&a+b=c%20d",
		"//cdn.example/x", "../a?b", "https://bücher.example./ü?q=ü",
		"http://a.example/%", "https://x.example/?=&=", "http://x.example/a/%2e%2e/b",
	} {
		f.Add(s, "https://base.example/dir/feed.xml")
	}
	f.Fuzz(func(t *testing.T, raw, base string) {
		got, err := fetch.CanonicalURL(raw, base)
		if err != nil {
			return
		}
		if !utf8.ValidString(got) || strings.ContainsAny(got, " \t\r\n#") {
			t.Fatalf("CanonicalURL(%q, %q) = %q: not a clean URL", raw, base, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("CanonicalURL(%q, %q) = %q does not parse: %v", raw, base, got, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("CanonicalURL(%q, %q) = %q: bad scheme, host, user or fragment", raw, base, got)
		}
		for name := range u.Query() {
			if fetch.IsTrackingParam(name) {
				t.Fatalf("CanonicalURL(%q, %q) = %q keeps tracking parameter %q", raw, base, got, name)
			}
		}
		again, err := fetch.CanonicalURL(got, "")
		if err != nil || again != got {
			t.Fatalf("not idempotent: CanonicalURL(%q) = %q, %v; first pass from %q, %q", got, again, err, raw, base)
		}
	})
}
