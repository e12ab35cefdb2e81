package render

import (
	"strings"
	"unicode/utf8"

	"github.com/seed-c50b6fda/herald/digest"
)

// Markdown dialects. Both escape by putting a backslash before an ASCII
// punctuation character, which CommonMark and Discord both read as that
// character. Characters are escaped wherever they could mean something,
// not only where they would: a message may be cut between any two words,
// and the next part then starts a line with whatever word came next.
var (
	// commonMarkSpecial are the characters that can start or end inline
	// markup (emphasis, code, links, raw HTML, GFM strikethrough and tables)
	// or, at the start of a line, a heading, list, quote, thematic break or
	// setext underline.
	commonMarkSpecial = "\\`*_[]<>#+-=|~!"
	// discordSpecial is the same for Discord's markdown: ~~strike~~,
	// ||spoiler||, > and >>> quotes, # headings, -# subtext, lists.
	// Discord has no raw HTML; the angle brackets of its mentions and
	// emoji are neutralised separately (see escapeDiscordWord).
	discordSpecial = "\\`*_[]>#+-=|~"
)

var markdownDialect = dialect{
	escape:     escapeMarkdownWord,
	textCost:   func(out, _ string) cost { return limits(runeLen(out)) },
	markupCost: func(out string, _ bool) cost { return limits(runeLen(out)) },
}

var discordDialect = dialect{
	escape:     escapeDiscordWord,
	textCost:   func(out, _ string) cost { return limits(runeLen(out)) },
	markupCost: func(out string, _ bool) cost { return limits(runeLen(out)) },
}

// escapeMarkdownWord escapes a word for CommonMark (with the GitHub
// extensions).
func escapeMarkdownWord(w string, emit func(out, shown string, canStart bool)) {
	escapeWord(w, commonMarkSpecial, func(cs []string, i int) string {
		// &copy; and &#169; are character references in CommonMark text.
		if strings.HasPrefix(cs[i], "&") && entityAhead(cs[i+1:]) {
			return `\` + cs[i]
		}
		return ""
	}, emit)
}

// escapeDiscordWord escapes a word for Discord and neutralises mentions:
// a zero-width space goes after an @ that starts @everyone or @here, and
// after a < that could open <@user>, <@!user>, <@&role>, <#channel>,
// </command:id>, <:emoji:id> or <t:timestamp>. The messages also carry
// allowed_mentions with an empty parse list, so a mention that got through
// would still not notify; this keeps them from even looking like one.
func escapeDiscordWord(w string, emit func(out, shown string, canStart bool)) {
	escapeWord(w, discordSpecial, func(cs []string, i int) string {
		switch c := cs[i]; {
		case strings.HasPrefix(c, "<") && i+1 < len(cs):
			return c + "\u200B"
		case strings.HasPrefix(c, "@") && (wordAhead(cs[i+1:], "everyone") || wordAhead(cs[i+1:], "here")):
			return c + "\u200B"
		}
		return ""
	}, emit)
}

// escapeWord escapes the clusters of w: special gives a cluster's escaped
// form, or "" to fall back on a backslash before a cluster that starts with
// an ASCII character in set (a combining mark after * does not stop it from
// being emphasis). A word that is a number followed by . or ) would start
// an ordered list at the start of a line, so its last character is
// escaped; and when a word merely ends that way, no part may start inside
// that ending.
func escapeWord(w, set string, special func(cs []string, i int) string, emit func(out, shown string, canStart bool)) {
	cs := clusters(w)
	tail := listMarkerTail(cs)
	for i, c := range cs {
		out := special(cs, i)
		switch {
		case out != "":
		case strings.IndexByte(set, c[0]) >= 0:
			out = `\` + c
		case i == len(cs)-1 && tail == 0:
			out = `\` + c
		default:
			out = c
		}
		emit(out, c, tail < 0 || i < tail)
	}
}

// listMarkerTail returns the index where a final run of ASCII digits
// followed by . or ) begins in cs, or -1.
func listMarkerTail(cs []string) int {
	n := len(cs)
	if n < 2 || (cs[n-1] != "." && cs[n-1] != ")") {
		return -1
	}
	k := n - 1
	for k > 0 && len(cs[k-1]) == 1 && cs[k-1][0] >= '0' && cs[k-1][0] <= '9' {
		k--
	}
	if k == n-1 {
		return -1
	}
	return k
}

// entityAhead reports whether cs starts with the rest of a character
// reference: letters or digits (after an optional #) and a semicolon.
func entityAhead(cs []string) bool {
	for i, c := range cs {
		if len(c) != 1 {
			return false
		}
		switch ch := c[0]; {
		case ch == ';':
			return i > 0
		case ch == '#' && i == 0, ch >= '0' && ch <= '9', ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z':
		default:
			return false
		}
	}
	return false
}

// wordAhead reports whether cs starts with w, ignoring ASCII case.
func wordAhead(cs []string, w string) bool {
	var b strings.Builder
	for _, c := range cs {
		if b.Len() >= len(w) {
			break
		}
		b.WriteString(c)
	}
	s := b.String()
	return len(s) >= len(w) && strings.EqualFold(s[:len(w)], w)
}

var markdownURLEscaper = strings.NewReplacer(`(`, `\(`, `)`, `\)`)

// markdownLink returns the opening and closing markup of a CommonMark link
// to u (from safeURL), whose parentheses are escaped so that they cannot end
// the destination.
func markdownLink(u string) (string, string) {
	return "[", "](" + markdownURLEscaper.Replace(u) + ")"
}

// Markdown renders d as CommonMark: a # title, a ## heading per story with
// its headline linked, paragraphs for the time, summary and sources, and
// the "more" line and notices at the end. Feed text is escaped so that it
// can never become markup; links are only http and https, with parentheses
// in URLs escaped.
func Markdown(d digest.Digest) string {
	v := newView(d)
	b := newBuilder(&markdownDialect, v.size())
	b.raw("# ")
	b.text(v.title)
	if v.window != "" {
		b.block()
		italic(b, v.window)
	}
	if v.empty != "" {
		b.block()
		b.text(v.empty)
	}
	for _, s := range v.stories {
		b.block()
		b.raw("## ")
		b.raw(s.number)
		b.space(" ", cutSpace)
		link(b, s.url, s.headline, markdownLink)
		if s.meta != "" {
			b.block()
			italic(b, s.meta)
		}
		if s.summary != "" {
			b.block()
			b.text(s.summary)
		}
		if s.label != "" {
			b.block()
			sources(b, s, markdownLink)
		}
	}
	if v.more != "" {
		b.block()
		italic(b, v.more)
	}
	if len(v.notices) > 0 {
		b.block()
		b.open("**", "**")
		b.text("Notices")
		b.close()
		b.block()
		for i, n := range v.notices {
			if i > 0 {
				b.line()
			}
			b.raw("- ")
			b.text(noticeMark + n)
		}
	}
	return join(b.ps) + "\n"
}

// italic appends text in *italics*.
func italic(b *builder, text string) {
	b.open("*", "*")
	b.text(text)
	b.close()
}

// link appends text linked to u with the markup mk returns, or plain text
// when there is no safe URL or mk returns no markup.
func link(b *builder, u, text string, mk func(string) (string, string)) {
	open, close := "", ""
	if u != "" {
		open, close = mk(u)
	}
	if open == "" {
		b.text(text)
		return
	}
	b.open(open, close)
	b.text(text)
	b.close()
}

// sources appends "3 sources: a, b, c" with each name linked.
func sources(b *builder, s storyView, mk func(string) (string, string)) {
	b.text(s.label)
	for i, src := range s.sources {
		if i > 0 {
			b.text(",")
		}
		b.space(" ", cutSpace)
		link(b, src.url, src.name, mk)
	}
}

// truncateRunes cuts s to at most n code points, never inside a cluster.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	var b strings.Builder
	used := 0
	for _, c := range clusters(s) {
		k := utf8.RuneCountInString(c)
		if used+k > n {
			break
		}
		b.WriteString(c)
		used += k
	}
	return b.String()
}
