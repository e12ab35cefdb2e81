package render

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// clean turns feed text into one line of displayable text: invalid UTF-8
// becomes U+FFFD, control characters (which include terminal escape
// sequences) and bidirectional embeddings, overrides and isolates are
// removed, and every run of white space becomes one space, trimmed at both
// ends. The bidi controls go because an unterminated override in a headline
// would reverse the text that follows it in the same message (the
// "Trojan Source" trick); right-to-left text needs none of them to show
// correctly, and the plain marks U+200E and U+200F, which cannot leak past
// their position, are kept.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == '\x1b' {
			i += escapeSequenceLen(s[i:])
			continue
		}
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case isBidiControl(r), unicode.IsControl(r), r == '\u2028', r == '\u2029':
			// U+2028 and U+2029 count as line breaks in some clients; they are
			// not in unicode.IsSpace's set.
			if r == '\u2028' || r == '\u2029' {
				space = b.Len() > 0
			}
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// escapeSequenceLen returns the length of the rest of a terminal escape
// sequence whose ESC came just before s: a CSI sequence (ESC [ parameters
// intermediates final, as in the colour code ESC [31m) or an OSC sequence
// (ESC ] ... ended by BEL or ESC \), so that clean removes the whole
// sequence and not only its ESC.
func escapeSequenceLen(s string) int {
	switch {
	case strings.HasPrefix(s, "["):
		i := 1
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3F {
			i++
		}
		if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7E {
			return i + 1
		}
		return i
	case strings.HasPrefix(s, "]"):
		for i := 1; i < len(s); i++ {
			if s[i] == '\a' {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	return 0
}

// isBidiControl reports whether r opens or closes a bidirectional embedding,
// override or isolate (U+202A..U+202E, U+2066..U+2069).
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// maxURLLen is the longest link Herald emits. Discord rejects longer embed
// URLs, and no article needs more.
const maxURLLen = 2048

// safeURL returns u ready to be used as a link target, or "" when it must
// not be one: only absolute http and https URLs with a host and without user
// information ("https://bank.example@evil.example/" is a phishing trick)
// are linked, white space and control characters disqualify a URL, and
// characters that RFC 3986 does not allow unencoded (" < > \ ^ ` { | }, and
// non-ASCII characters outside the host) are percent-encoded so that no
// output format can mistake them for markup.
func safeURL(u string) string {
	u = strings.TrimSpace(u)
	if u == "" || len(u) > maxURLLen || !utf8.ValidString(u) {
		return ""
	}
	for _, r := range u {
		if unicode.IsSpace(r) || unicode.IsControl(r) || isBidiControl(r) || r == '\u2028' || r == '\u2029' {
			return ""
		}
	}
	p, err := url.Parse(u)
	if err != nil || p.User != nil || p.Host == "" || p.Opaque != "" {
		return ""
	}
	if s := strings.ToLower(p.Scheme); s != "http" && s != "https" {
		return ""
	}
	var b strings.Builder
	// Past scheme://host (there is no user information), non-ASCII bytes
	// are percent-encoded too, as browsers do: some platforms refuse
	// links that are not ASCII.
	authority := len(p.Scheme) + len("://") + len(p.Host)
	if authority > len(u) || !strings.EqualFold(u[:authority], p.Scheme+"://"+p.Host) {
		return ""
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if strings.IndexByte(`"<>\^`+"`{|}", c) >= 0 || (c >= utf8.RuneSelf && i >= authority) {
			b.WriteString("%" + strings.ToUpper(hex2(c)))
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	if len(out) > maxURLLen || !validHost(p.Host) {
		return ""
	}
	if q, err := url.Parse(out); err != nil || q.Host != p.Host {
		return ""
	}
	return out
}

// validHost reports whether host (with an optional port) holds only what a
// host name, an IP address or an internationalised name can: url.Parse is
// lenient there.
func validHost(host string) bool {
	for _, r := range host {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '-', r == '.', r == ':', r == '[', r == ']', r == '_':
		case r >= utf8.RuneSelf && unicode.IsPrint(r):
		default:
			return false
		}
	}
	return true
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xF]})
}

// hostOf returns the host of an absolute URL, without "www.", or "".
func hostOf(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(p.Hostname()), "www.")
}

// formatTime shows t in loc the way every renderer does:
// "Fri 22 Mar 14:05 MSK". Digests cover hours or days, so the year is left
// out; zones without an abbreviation show their offset ("+0330").
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("Mon 2 Jan 15:04 MST")
}

// formatWindow shows the digest window, or "" when it is unknown.
func formatWindow(since, until time.Time, loc *time.Location) string {
	switch {
	case since.IsZero() && until.IsZero():
		return ""
	case since.IsZero():
		return "until " + formatTime(until, loc)
	case until.IsZero():
		return "since " + formatTime(since, loc)
	}
	s, u := since.In(loc), until.In(loc)
	if s.Format("MST") == u.Format("MST") {
		return s.Format("Mon 2 Jan 15:04") + " – " + formatTime(u, loc)
	}
	return formatTime(s, loc) + " – " + formatTime(u, loc)
}

// location returns the digest's time zone, UTC when unset.
func location(l *time.Location) *time.Location {
	if l == nil {
		return time.UTC
	}
	return l
}

// plural returns "1 source" or "3 sources".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
