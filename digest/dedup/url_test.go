package dedup

import (
	"net/url"
	"strings"
	"testing"
)

func TestCanonicalURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/news/story", "https://example.com/news/story"},
		{"HTTP://WWW.Example.COM/News/Story/", "https://example.com/News/Story"},
		{"https://example.com/a?utm_source=rss&utm_medium=feed&id=7", "https://example.com/a?id=7"},
		{"https://example.com/a?b=2&a=1&fbclid=x&gclid=y", "https://example.com/a?a=1&b=2"},
		{"https://example.com/a#comments", "https://example.com/a"},
		{"https://user:pw@example.com:443/a", "https://example.com/a"},
		{"http://example.com:8080/a", "https://example.com:8080/a"},
		{"  https://example.com/a  ", "https://example.com/a"},
		{"https://example.com", "https://example.com"},
		{"ftp://example.com/a", ""},
		{"/relative/path", ""},
		{"not a url", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := CanonicalURL(tc.in); got != tc.want {
				t.Errorf("CanonicalURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzCanonicalURL: links come from feeds. The canonical form must be
// empty or an https URL that parses, and canonicalising it again must not
// change it.
func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{"https://example.com/a?b=2&a=1&utm_x=3#f", "HTTP://WWW.A.COM:80/", "https://[::1]:8080/x?y", "http://%zz", "https://a.com/%7E?q=%20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CanonicalURL(s)
		if c == "" {
			return
		}
		if !strings.HasPrefix(c, "https://") {
			t.Fatalf("CanonicalURL(%q) = %q, not https", s, c)
		}
		if _, err := url.Parse(c); err != nil {
			t.Fatalf("CanonicalURL(%q) = %q does not parse: %v", s, c, err)
		}
		if again := CanonicalURL(c); again != c {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, c, again)
		}
	})
}
