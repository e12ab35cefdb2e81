package render

import "strings"

// This file exports the pieces of the Discord renderer that chat replies
// need: a command's answer is not a digest, but its text comes partly from
// users and feeds and must be just as safe, and a long answer has to be cut
// into messages the way a digest is.

// DiscordBuilder writes a message in Discord markdown from Herald's own
// words and from untrusted text. Everything given to it is cleaned (control
// characters, terminal escape sequences and bidi overrides removed) and
// escaped, and mentions are neutralised, the way the digest renderers treat
// feed text; the markup is its own. Split cuts the result into messages
// within a limit, between blocks, lines or words as the digest renderers
// do, closing and reopening markup at a cut. The zero value is not usable;
// call NewDiscordBuilder.
type DiscordBuilder struct {
	b builder
}

// NewDiscordBuilder returns an empty DiscordBuilder.
func NewDiscordBuilder() *DiscordBuilder {
	return &DiscordBuilder{b: builder{d: &discordDialect}}
}

// Text appends text. Its line breaks are kept; within a line white space
// collapses to one space, and each line is trimmed (see Space).
func (d *DiscordBuilder) Text(s string) {
	for i, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if i > 0 {
			d.b.line()
		}
		d.b.text(clean(line))
	}
}

// Bold appends s in bold, on one line.
func (d *DiscordBuilder) Bold(s string) {
	d.b.open("**", "**")
	d.b.text(clean(s))
	d.b.close()
}

// Italic appends s in italics, on one line.
func (d *DiscordBuilder) Italic(s string) {
	italic(&d.b, clean(s))
}

// Link appends text linked to u. The link is made only when u is an
// absolute http or https URL that is safe to link (see the package
// comment) and short enough to repeat when a cut falls inside the link;
// otherwise the text is appended alone. An empty text shows the URL.
func (d *DiscordBuilder) Link(u, text string) {
	safe := safeURL(u)
	if strings.TrimSpace(text) == "" {
		text = safe
	}
	link(&d.b, safe, clean(text), discordContentLink)
}

// Code appends s as inline code, on one line. Discord reads nothing inside
// code as markup or as a mention, so s is not escaped; backticks, which
// would end the code, become U+02CB MODIFIER LETTER GRAVE ACCENT.
func (d *DiscordBuilder) Code(s string) {
	s = clean(strings.ReplaceAll(s, "`", "\u02CB"))
	if s == "" {
		return
	}
	d.b.open("`", "`")
	for i, w := range strings.Split(s, " ") {
		if i > 0 {
			d.b.space(" ", cutSpace)
		}
		for _, c := range clusters(w) {
			d.b.ps = append(d.b.ps, piece{kind: kText, out: c, cost: limits(runeLen(c)), cut: cutHard})
		}
	}
	d.b.close()
}

// Bullet starts a list item: call it at the start of a line.
func (d *DiscordBuilder) Bullet() {
	d.b.raw("- ")
}

// Space appends a space between two pieces (Text trims the ends of
// what it is given); a cut may fall there.
func (d *DiscordBuilder) Space() { d.b.space(" ", cutSpace) }

// Line ends a line.
func (d *DiscordBuilder) Line() { d.b.line() }

// Block ends a block (a paragraph, a list): a blank line, and the best
// place to cut.
func (d *DiscordBuilder) Block() { d.b.block() }

// Empty reports whether nothing visible was appended.
func (d *DiscordBuilder) Empty() bool {
	for _, p := range d.b.ps {
		if p.kind == kText {
			return false
		}
	}
	return true
}

// Split returns the message cut into parts of at most limit characters
// (code points, as Discord counts; DiscordMaxContent for message content,
// DiscordMaxDescription for an embed description), or nil when it is
// empty. Parts start and end with text: white space at a cut is dropped.
func (d *DiscordBuilder) Split(limit int) []string {
	var out []string
	for _, p := range split(d.b.ps, limits(limit)) {
		out = append(out, join(p))
	}
	return out
}

// DiscordPlain returns s as plain text of at most n characters, for the
// places where Discord shows text without markdown: button labels, choice
// names, thread names. It is cleaned and collapsed to one line, and cut at
// a character boundary with an ellipsis when it is longer than n.
func DiscordPlain(s string, n int) string {
	s = clean(s)
	if n <= 0 {
		return ""
	}
	if runeLen(s) <= n {
		return s
	}
	return strings.TrimRight(truncateRunes(s, n-1), " ") + "…"
}

// DiscordTitle returns s as an embed title: cleaned, escaped (Discord reads
// markdown in titles) and cut to DiscordMaxTitle characters with an
// ellipsis.
func DiscordTitle(s string) string {
	t, _ := discordTitle(clean(s))
	return t
}
