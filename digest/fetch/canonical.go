package fetch

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// trackingParams are query parameters that identify a campaign or a click,
// never the page. Matched case-insensitively; utm_* is matched by prefix.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "yclid": true, "ysclid": true, "twclid": true, "ttclid": true, "li_fat_id": true,
	"igshid": true, "mc_cid": true, "mc_eid": true, "_hsenc": true, "_hsmi": true, "__hssc": true,
	"__hstc": true, "__hsfp": true, "hsctatracking": true, "mkt_tok": true, "ml_subscriber": true,
	"ml_subscriber_hash": true, "oly_anon_id": true, "oly_enc_id": true, "rb_clickid": true,
	"s_cid": true, "vero_conv": true, "vero_id": true, "wickedid": true, "_openstat": true,
	"_ga": true, "_gl": true, "ref_src": true, "ref_url": true, "cmpid": true, "sr_share": true,
}

// IsTrackingParam reports whether a query parameter name only tracks a
// campaign or click and can be dropped from a URL without changing the page.
func IsTrackingParam(name string) bool {
	name = strings.ToLower(name)
	return strings.HasPrefix(name, "utm_") || trackingParams[name]
}

// CanonicalURL returns the canonical form of raw, resolved against base when
// it is relative (base may be empty for absolute URLs): scheme and host in
// lower case (international names in their ASCII form), default port and
// trailing host dot dropped, user info and fragment dropped, dot segments
// removed, percent-encoding normalised (unreserved characters decoded, hex
// digits in upper case), tracking parameters removed, and the query sorted
// by parameter name (parameters with the same name keep their order). The
// path and the parameter values keep their case: servers treat them as
// distinct. Only http and https URLs with a host are accepted.
//
// CanonicalURL(CanonicalURL(x)) == CanonicalURL(x).
func CanonicalURL(raw, base string) (string, error) {
	u, err := parseURL(raw, base)
	if err != nil {
		return "", err
	}
	return canonicalString(u), nil
}

// errNotHTTP is returned for URLs Herald cannot fetch or link to.
var errNotHTTP = errors.New("not an http or https URL")

// parseURL parses raw (resolved against base) into an absolute http(s) URL
// with a normalised host.
func parseURL(raw, base string) (*url.URL, error) {
	raw = stripURLSpace(raw)
	if raw == "" {
		return nil, errors.New("empty URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse URL: %w", err)
	}
	if !u.IsAbs() && base != "" {
		b, err := url.Parse(stripURLSpace(base))
		if err != nil {
			return nil, fmt.Errorf("parse base URL: %w", err)
		}
		u = b.ResolveReference(u)
	} else {
		// Resolving an absolute URL against nothing removes dot segments.
		u = (&url.URL{}).ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return nil, fmt.Errorf("%q is not an absolute URL", raw)
		}
		return nil, fmt.Errorf("%q: %w", raw, errNotHTTP)
	}
	if u.Opaque != "" {
		return nil, fmt.Errorf("%q: %w", raw, errNotHTTP)
	}
	host, err := canonicalHost(u.Hostname())
	if err != nil {
		return nil, fmt.Errorf("%q: %w", raw, err)
	}
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.User = nil
	return u, nil
}

// canonicalHost lower-cases a host name, converts an international name to
// its ASCII (punycode) form and drops a trailing dot.
func canonicalHost(host string) (string, error) {
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return "", errors.New("no host")
	}
	ascii := true
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		h, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return "", fmt.Errorf("invalid international host name: %w", err)
		}
		host = h
	}
	host = strings.ToLower(host)
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c <= ' ' || c == '/' || c == '\\' || c == '?' || c == '#' || c == '@' || c == '%' || c >= utf8.RuneSelf {
			return "", fmt.Errorf("invalid host %q", host)
		}
	}
	return host, nil
}

// stripURLSpace removes leading and trailing white space and, as browsers
// do, tabs and newlines anywhere (feeds wrap long links across lines).
func stripURLSpace(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\t\r\n") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s)
	}
	return s
}

// canonicalString assembles the canonical form of an absolute URL from
// parseURL.
func canonicalString(u *url.URL) string {
	var b strings.Builder
	b.Grow(len(u.Host) + len(u.RawPath) + len(u.Path) + len(u.RawQuery) + 16)
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(u.Host)
	path := normalizePercent(u.EscapedPath(), pathKeep)
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if q := canonicalQuery(u.RawQuery); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String()
}

// canonicalQuery drops tracking parameters and empty pieces, normalises
// percent-encoding and sorts the parameters by name, stably.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	pieces := strings.Split(raw, "&")
	kept := pieces[:0]
	for _, p := range pieces {
		if p == "" {
			continue
		}
		p = normalizePercent(p, queryKeep)
		name, _, _ := strings.Cut(p, "=")
		if dec, err := url.QueryUnescape(name); err == nil {
			name = dec
		}
		if IsTrackingParam(name) {
			continue
		}
		kept = append(kept, p)
	}
	sort.SliceStable(kept, func(i, j int) bool {
		ni, _, _ := strings.Cut(kept[i], "=")
		nj, _, _ := strings.Cut(kept[j], "=")
		return ni < nj
	})
	return strings.Join(kept, "&")
}

// Characters that may stay as they are in a path or in a query piece; any
// other byte is percent-encoded.
const (
	pathKeep  = "-._~!$&'()*+,;=:@/"
	queryKeep = "-._~!$'()*+,;=:@/?"
)

// normalizePercent rewrites an escaped URL component so that equal
// components are equal strings: %XX of an unreserved character other than
// "." is decoded,
// other %XX use upper-case hex, a stray "%" becomes "%25", and bytes outside
// the unreserved set and keep are encoded.
func normalizePercent(s, keep string) string {
	var b strings.Builder
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' || !(isUnreserved(c) || strings.IndexByte(keep, c) >= 0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b.Grow(len(s) + 8)
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			v := unhex(s[i+1])<<4 | unhex(s[i+2])
			// A decoded "." could form a new dot segment and change the
			// path on a second pass; it stays encoded.
			if isUnreserved(v) && v != '.' {
				b.WriteByte(v)
			} else {
				b.WriteByte('%')
				b.WriteByte(hex[v>>4])
				b.WriteByte(hex[v&15])
			}
			i += 2
		case isUnreserved(c) || (c != '%' && strings.IndexByte(keep, c) >= 0):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
