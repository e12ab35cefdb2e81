package dedup

import (
	"net/url"
	"sort"
	"strings"
	"unicode"
)

// trackingParams are query parameters that identify a campaign or a click,
// never the page. Keys starting with "utm_" are dropped as well.
var trackingParams = makeSet(`fbclid gclid dclid gclsrc msclkid yclid igshid mc_cid mc_eid
_ga _gl _hsenc _hsmi mkt_tok oly_anon_id oly_enc_id vero_id wt.mc_id ref_src ref_url cmpid
ncid ito s_cid rss rss_id feature`)

// CanonicalURL returns the form of a link used to recognise the same article
// behind different links: scheme and host lower-cased, default port, fragment,
// user info and tracking parameters (utm_*, fbclid, gclid and the like)
// removed, remaining query parameters sorted, "www." and a trailing slash
// dropped, and http treated as https. It returns "" for text that is not an
// absolute http(s) URL, so callers never match articles on junk.
func CanonicalURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	host = strings.TrimRight(host, ".")
	for strings.HasPrefix(host, "www.") {
		host = host[len("www."):]
	}
	if host == "" || !validHost(host) {
		return ""
	}
	if strings.Contains(host, ":") { // IPv6
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && p != "80" && p != "443" {
		host += ":" + p
	}
	path := u.EscapedPath()
	path = strings.TrimRight(path, "/")

	var b strings.Builder
	b.Grow(len(raw))
	b.WriteString("https://")
	b.WriteString(host)
	b.WriteString(path)

	if u.RawQuery == "" {
		return b.String()
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		lk := strings.ToLower(k)
		if _, drop := trackingParams[lk]; drop || strings.HasPrefix(lk, "utm_") {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sep := byte('?')
	for _, k := range keys {
		vs := q[k]
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteByte(sep)
			sep = '&'
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}

// validHost accepts names made of letters, digits, hyphens, underscores and
// dots, and IPv6 addresses; anything else is not a host to match on.
func validHost(h string) bool {
	for _, r := range h {
		switch {
		case r == '-' || r == '.' || r == '_' || r == ':':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		default:
			return false
		}
	}
	return true
}
