package render

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// The checkers in this file read rendered output back independently of
// the renderers: they are strict about the little markup Herald writes, so
// that feed text that escaped its escaping shows up as an error.

// telegramAllowed is the tag set of Telegram's HTML parse mode.
var telegramAllowed = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "tg-emoji": true, "code": true, "pre": true, "blockquote": true,
}

// readTelegram parses one Telegram HTML message and returns the text
// Telegram shows and the number of tags (entities). Only Telegram's tags
// are accepted, balanced; <a> needs exactly one href with an http or https
// URL and other tags take no attributes; the only named entities are
// &lt; &gt; &amp; &quot;. The text is cross-checked against
// golang.org/x/net/html's tokenizer.
func readTelegram(s string) (text string, tags int, err error) {
	if !utf8.ValidString(s) {
		return "", 0, errors.New("invalid UTF-8")
	}
	var b, norm strings.Builder // norm: the text as an HTML tokenizer reads it
	flush := func(from int) int {
		// An HTML tokenizer reads \r\n and \r as \n in each text token.
		norm.WriteString(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(b.String()[from:]))
		return b.Len()
	}
	seg := 0
	var stack []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			seg = flush(seg)
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", 0, fmt.Errorf("unterminated tag at %d", i)
			}
			tag := s[i+1 : i+end]
			i += end + 1
			if name, ok := strings.CutPrefix(tag, "/"); ok {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return "", 0, fmt.Errorf("unbalanced </%s>", name)
				}
				stack = stack[:len(stack)-1]
				continue
			}
			name, attrs, _ := strings.Cut(tag, " ")
			if !telegramAllowed[name] {
				return "", 0, fmt.Errorf("tag <%s> is not Telegram's", tag)
			}
			if name == "a" {
				v, ok := strings.CutPrefix(attrs, `href="`)
				v, ok2 := strings.CutSuffix(v, `"`)
				if !ok || !ok2 || strings.ContainsAny(v, `"<>`) {
					return "", 0, fmt.Errorf("bad link tag <%s>", tag)
				}
				u, err := url.Parse(html.UnescapeString(v))
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return "", 0, fmt.Errorf("link to %q", v)
				}
			} else if attrs != "" {
				return "", 0, fmt.Errorf("unexpected attributes in <%s>", tag)
			}
			stack = append(stack, name)
			tags++
		case '&':
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				return "", 0, fmt.Errorf("stray & at %d", i)
			}
			ent := s[i : i+end+1]
			i += end + 1
			switch ent {
			case "&lt;":
				b.WriteByte('<')
			case "&gt;":
				b.WriteByte('>')
			case "&amp;":
				b.WriteByte('&')
			case "&quot;":
				b.WriteByte('"')
			default:
				var r rune
				if _, err := fmt.Sscanf(ent, "&#%d;", &r); err != nil {
					if _, err := fmt.Sscanf(ent, "&#x%x;", &r); err != nil {
						return "", 0, fmt.Errorf("entity %s", ent)
					}
				}
				b.WriteRune(r)
			}
		case '>':
			return "", 0, fmt.Errorf("stray > at %d", i)
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	if len(stack) > 0 {
		return "", 0, fmt.Errorf("<%s> left open", stack[len(stack)-1])
	}
	flush(seg)
	text = b.String()
	var x strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt == html.TextToken {
			x.Write(z.Text())
		}
	}
	if x.String() != norm.String() {
		return "", 0, fmt.Errorf("x/net/html reads the text as %q, the checker as %q", x.String(), text)
	}
	return text, tags, nil
}

// readMarkdown parses Herald's markdown back: backslash escapes, ** and *
// emphasis, [text](url) links with http or https URLs, and, for CommonMark,
// "# ", "## " and "- " at the start of a line. Any other character of
// special left unescaped, an ordered-list marker at the start of a line,
// or emphasis or a link left open is an error. It returns the text shown.
func readMarkdown(s, special string, commonMark bool) (string, error) {
	var b strings.Builder
	bold, italic, inLink := false, false, false
	lineStart := true
	for i := 0; i < len(s); {
		if lineStart {
			lineStart = false
			if listMarker.MatchString(s[i:min(len(s), i+12)]) {
				return "", fmt.Errorf("ordered list marker at %d: %q", i, s[i:min(len(s), i+12)])
			}
			if commonMark {
				for _, p := range []string{"## ", "# ", "- "} {
					if strings.HasPrefix(s[i:], p) {
						i += len(p)
						break
					}
				}
			}
			continue
		}
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) || s[i+1] >= utf8.RuneSelf || !isASCIIPunct(s[i+1]) {
				return "", fmt.Errorf("backslash before a non-punctuation character at %d", i)
			}
			b.WriteByte(s[i+1])
			i += 2
		case strings.HasPrefix(s[i:], "**"):
			bold = !bold
			i += 2
		case c == '*':
			italic = !italic
			i++
		case c == '[':
			if inLink {
				return "", fmt.Errorf("nested link at %d", i)
			}
			inLink = true
			i++
		case strings.HasPrefix(s[i:], "]("):
			if !inLink {
				return "", fmt.Errorf("] outside a link at %d", i)
			}
			inLink = false
			end := -1
			for k := i + 2; k < len(s); k++ {
				if s[k] == '\\' {
					k++
					continue
				}
				if s[k] == ')' {
					end = k
					break
				}
			}
			if end < 0 {
				return "", fmt.Errorf("unterminated link destination at %d", i)
			}
			dest := strings.NewReplacer(`\(`, "(", `\)`, ")").Replace(s[i+2 : end])
			u, err := url.Parse(dest)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(dest, " \n<>") {
				return "", fmt.Errorf("bad link destination %q", dest)
			}
			i = end + 1
		case c == '\n':
			b.WriteByte(c)
			lineStart = true
			i++
		case strings.IndexByte(special, c) >= 0:
			return "", fmt.Errorf("unescaped %q at %d: %q", c, i, s[max(0, i-20):min(len(s), i+20)])
		case commonMark && c == '&' && charRef.MatchString(s[i:]):
			return "", fmt.Errorf("character reference left unescaped at %d", i)
		default:
			b.WriteByte(c)
			i++
		}
	}
	if bold || italic || inLink {
		return "", fmt.Errorf("markup left open (bold %v, italic %v, link %v)", bold, italic, inLink)
	}
	return b.String(), nil
}

var (
	listMarker = regexp.MustCompile(`^[0-9]{1,9}[.)]( |$)`)
	charRef    = regexp.MustCompile(`^&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);`)
)

func isASCIIPunct(c byte) bool {
	return c > ' ' && c < 0x7F && !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
}

// pingPattern matches what Discord would read as a mention, a channel, a
// command, an emoji or a timestamp.
var pingPattern = regexp.MustCompile(`(?i)@(everyone|here)|<[@#/:]|<a:|<t:`)

// checkNoPing fails when s holds anything Discord would read as a mention.
func checkNoPing(tb testing.TB, what, s string) {
	tb.Helper()
	if m := pingPattern.FindStringIndex(s); m != nil {
		tb.Errorf("%s contains %q, which Discord reads as a mention: %q", what, s[m[0]:m[1]], s[max(0, m[0]-30):min(len(s), m[1]+30)])
	}
}

// isGap is the white space a cut may drop.
func isGap(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '\r' }

// checkStream fails unless whole is exactly the parts one after another,
// with only white space between them (what a cut drops): no text lost,
// none duplicated. Every part must hold text.
func checkStream(tb testing.TB, whole string, parts []string) {
	tb.Helper()
	pos := 0
	for i, p := range parts {
		if strings.TrimFunc(p, isGap) == "" {
			tb.Errorf("part %d of %d holds no text", i+1, len(parts))
			continue
		}
		for pos < len(whole) {
			r, n := utf8.DecodeRuneInString(whole[pos:])
			if !isGap(r) {
				break
			}
			pos += n
		}
		if !strings.HasPrefix(whole[pos:], p) {
			tb.Fatalf("part %d of %d does not continue the text:\npart: %q\nexpected text from: %q", i+1, len(parts), trunc(p), trunc(whole[pos:]))
		}
		pos += len(p)
	}
	if rest := strings.TrimFunc(whole[pos:], isGap); rest != "" {
		tb.Fatalf("text lost after the last part: %q", trunc(rest))
	}
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// checkContains fails unless each of want occurs in text, in order. White
// space (which wrapping and cutting change) and zero-width spaces (which
// the renderers insert to neutralise mentions) are ignored on both sides;
// checkStream is the exact check of what cutting does.
func checkContains(tb testing.TB, what, text string, want []string) {
	tb.Helper()
	squeeze := func(s string) string {
		return strings.Map(func(r rune) rune {
			if isGap(r) || r == '\u200B' {
				return -1
			}
			return r
		}, s)
	}
	text = squeeze(text)
	pos := 0
	for _, w := range want {
		w = squeeze(w)
		if w == "" {
			continue
		}
		k := strings.Index(text[pos:], w)
		if k < 0 {
			tb.Fatalf("%s: %q missing (or out of order) in\n%q", what, trunc(w), trunc(text[pos:]))
		}
		pos += k + len(w)
	}
}
