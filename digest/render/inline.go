package render

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file exports the pieces of the Telegram renderer that chat replies
// need (a command's answer is not a digest, but its text comes partly from
// users and feeds and must be just as safe).

// TelegramText returns s as text for a Telegram HTML message. Each line is
// cleaned the way feed text is (control characters, terminal escape
// sequences and bidi overrides removed, runs of white space collapsed to
// one space) while the line breaks themselves are kept; & < > " are
// escaped, and an @ that would start a @username mention gets a zero-width
// space after it, so that echoing what a user or a feed wrote never pings
// anybody.
func TelegramText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		for j, w := range strings.Split(clean(line), " ") {
			if j > 0 {
				b.WriteByte(' ')
			}
			escapeTelegramWord(w, func(out, _ string, _ bool) { b.WriteString(out) })
		}
	}
	return b.String()
}

// TelegramCode returns s as the content of a Telegram <code> or <pre>
// element: spaces, tabs and line breaks are kept as they are (a cron
// expression or an aligned table must survive copying), invalid UTF-8
// becomes U+FFFD, other control characters, terminal escape sequences and
// bidi controls are removed, and & < > " are escaped. Mentions are left
// alone: Telegram does not detect them inside code.
func TelegramCode(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\x1b':
			i += escapeSequenceLen(s[i:])
		case r == '\n', r == '\t':
			b.WriteRune(r)
		case isBidiControl(r), unicode.IsControl(r), r == '\u2028', r == '\u2029':
		default:
			b.WriteString(escapeHTML(string(r)))
		}
	}
	return b.String()
}

// TelegramLink returns text linked to u in Telegram HTML. The link is made
// only when u is an absolute http or https URL that is safe to link (no
// user information, no white space or control characters; see the package
// comment); otherwise, or when u is empty, it returns the text alone. Text
// is escaped as TelegramText does; when it is empty the URL is shown.
func TelegramLink(u, text string) string {
	safe := safeURL(u)
	if strings.TrimSpace(text) == "" {
		text = safe
	}
	shown := TelegramText(text)
	if safe == "" {
		return shown
	}
	open, close := telegramLink(safe)
	if open == "" {
		return shown
	}
	return open + shown + close
}

// TelegramTextLen returns the length of the text Telegram shows for a
// message in Telegram HTML, counted the way it counts its limits (UTF-16
// code units after tags are removed and entities decoded; see
// TelegramMaxText). It returns the same errors as SplitTelegram for HTML
// that is not valid Telegram HTML.
func TelegramTextLen(html string) (int, error) {
	ps, err := parseTelegram(html)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		n += int(p.cost[0])
	}
	return n, nil
}
